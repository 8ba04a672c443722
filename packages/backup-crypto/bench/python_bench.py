"""Times cryptography.fernet on the bench's data, inside Python (no process start-up counted).

usage: python_bench.py DATA_FILE ITERATIONS   (key in BACKUP_ENCRYPTION_KEY)
prints JSON: {"encrypt": [seconds...], "decrypt": [seconds...]}
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
enc, dec = [], []
for _ in range(iterations):
    t = time.perf_counter()
    token = f.encrypt(data)
    enc.append(time.perf_counter() - t)
    t = time.perf_counter()
    f.decrypt(token)
    dec.append(time.perf_counter() - t)
json.dump({"encrypt": enc, "decrypt": dec}, sys.stdout)
