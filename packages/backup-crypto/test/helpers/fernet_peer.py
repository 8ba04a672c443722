"""Python's cryptography.fernet as a peer for the interop tests.

usage: fernet_peer.py encrypt|decrypt IN OUT   (key in BACKUP_ENCRYPTION_KEY; IN/OUT may be -)
"""
import os
import sys

from cryptography.fernet import Fernet


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
    cmd, src, dst = sys.argv[1:4]
    f = Fernet(os.environ["BACKUP_ENCRYPTION_KEY"])
    if cmd == "encrypt":
        write(dst, f.encrypt(read(src)))
    elif cmd == "decrypt":
        write(dst, f.decrypt(read(src)))
    else:
        sys.exit("unknown command " + cmd)


main()
