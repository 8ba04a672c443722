"""Times cryptography.fernet on the bench's data, inside Python (no process start-up counted).

usage: python_bench.py DATA_FILE ITERATIONS   (key in BACKUP_ENCRYPTION_KEY)
prints JSON: {"encrypt": [s...], "decrypt": [s...], "encryptCpu": [s...], "decryptCpu": [s...]}
(wall-clock seconds, and CPU seconds of this process as `openssl speed` counts by default)
"""
import json
import os
import sys
import time

from cryptography.fernet import Fernet

path, iterations = sys.argv[1], int(sys.argv[2])
f = Fernet(os.environ["BACKUP_ENCRYPTION_KEY"])
with open(path, "rb") as fh:
    data = fh.read()
out = {"encrypt": [], "decrypt": [], "encryptCpu": [], "decryptCpu": []}
for _ in range(iterations):
    t, c = time.perf_counter(), time.process_time()
    token = f.encrypt(data)
    out["encrypt"].append(time.perf_counter() - t)
    out["encryptCpu"].append(time.process_time() - c)
    t, c = time.perf_counter(), time.process_time()
    f.decrypt(token)
    out["decrypt"].append(time.perf_counter() - t)
    out["decryptCpu"].append(time.process_time() - c)
json.dump(out, sys.stdout)
