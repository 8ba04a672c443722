"""Python's cryptography.fernet as a peer for the interop tests.

usage: fernet_peer.py encrypt|decrypt IN OUT   (key in BACKUP_ENCRYPTION_KEY; IN/OUT may be -)
       fernet_peer.py decrypt-sha256 IN   (prints the SHA-256 of the plaintext, writes nothing)
       fernet_peer.py batch-encrypt|batch-decrypt  (stdin: JSON list of base64 strings; stdout:
       the JSON list of results, base64; a token that fails to decrypt gives null)
"""
import base64
import hashlib
import json
import os
import sys

from cryptography.fernet import Fernet, InvalidToken


def read(path):
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    if path == "-":
        sys.stdout.buffer.write(data)
        return
    with open(path, "wb") as f:
        f.write(data)


def main():
    cmd = sys.argv[1]
    f = Fernet(os.environ["BACKUP_ENCRYPTION_KEY"])
    if cmd.startswith("batch-"):
        out = []
        for item in json.load(sys.stdin):
            raw = base64.b64decode(item)
            if cmd == "batch-encrypt":
                out.append(base64.b64encode(f.encrypt(raw)).decode())
            else:
                try:
                    out.append(base64.b64encode(f.decrypt(raw)).decode())
                except InvalidToken:
                    out.append(None)
        json.dump(out, sys.stdout)
        return
    if cmd == "decrypt-sha256":
        sys.stdout.write(hashlib.sha256(f.decrypt(read(sys.argv[2]))).hexdigest())
        return
    src, dst = sys.argv[2:4]
    if cmd == "encrypt":
        write(dst, f.encrypt(read(src)))
    elif cmd == "decrypt":
        write(dst, f.decrypt(read(src)))
    else:
        sys.exit("unknown command " + cmd)


main()
