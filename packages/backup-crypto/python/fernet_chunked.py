#!/usr/bin/env python3
"""Reader (and writer) of @org/backup-crypto's chunked Fernet backup format, so that a backup
never depends on Node to be read. Needs Python 3.8+ and the `cryptography` package.

    BACKUP_ENCRYPTION_KEY=... python3 fernet_chunked.py decrypt backup.sql.fernet - | psql
    python3 fernet_chunked.py decrypt --key-file key.txt backup.sql.fernet backup.sql
    python3 fernet_chunked.py encrypt dump.sql dump.sql.fernet

Format: one standard Fernet token per line (b"\\n" after each). Each token's plaintext is a
30-byte header then the chunk's data. Header: b"FNTC", version 1 (1 byte), flags (1 byte, bit 0 =
final chunk), chunk index (uint64 big-endian, from 0), stream id (16 random bytes, the same in
every chunk of one backup). A chunk's data is written out only after its token has verified and
its index, stream id and position checked; truncation, reordering, duplication, chunks of another
backup and data after the final chunk all fail with exit status 1 and a one-line reason. Old keys
(comma-separated in BACKUP_ENCRYPTION_OLD_KEYS) are accepted for decryption.
"""
import argparse
import base64
import binascii
import os
import re
import struct
import sys

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

MAGIC = b"FNTC\x01"
HEADER = struct.Struct(">5sBQ16s")  # magic+version, flags, index, stream id: 30 bytes
FINAL = 0x01


class BackupError(Exception):
    pass


REDACTED = "[redacted key-like argument]"
RUN = re.compile(r"[A-Za-z0-9_+/=-]+")
WINDOW = 16  # a run sharing this many characters with a key-like argument is taken for it


def looks_like_key(text):
    """44 url-safe base64 characters ending in "=", or anything that decodes to 32 bytes."""
    s = text.strip()
    if re.fullmatch(r"[A-Za-z0-9_-]{43}=|[0-9a-fA-F]{64}", s):
        return True
    if not re.fullmatch(r"[A-Za-z0-9_+/-]+={0,2}", s):
        return False
    core = s.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        return len(base64.b64decode(core + "=" * (-len(core) % 4))) == 32
    except (binascii.Error, ValueError):
        return False


def redact(message, args):
    """`message` without any argument that may be a key (typed where a path or command belongs)."""
    windows = set()
    for arg in args:
        parts = [arg, arg.lstrip("-")] + re.split(r"[/\\]", arg)
        if arg.startswith("-") and "=" in arg:
            parts.append(arg.split("=", 1)[1])
        for part in (p.lstrip("-").rstrip("=") for p in parts if looks_like_key(p)):
            windows.update(part[i:i + WINDOW] for i in range(len(part) - WINDOW + 1))

    def one(m):
        run = m.group(0)
        if looks_like_key(run) or any(run[i:i + WINDOW] in windows for i in range(len(run) - WINDOW + 1)):
            return REDACTED
        return run

    return RUN.sub(one, message)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, "fernet_chunked: %s\n" % redact(message, sys.argv[1:]))


def load_keys(key_file):
    if key_file:
        with open(key_file, "r", encoding="ascii") as f:
            current = f.read().strip()
    else:
        current = os.environ.get("BACKUP_ENCRYPTION_KEY", "").strip()
    if not current:
        raise BackupError("no key: set BACKUP_ENCRYPTION_KEY or pass --key-file")
    old = [k.strip() for k in os.environ.get("BACKUP_ENCRYPTION_OLD_KEYS", "").split(",") if k.strip()]
    try:
        return MultiFernet([Fernet(k) for k in [current] + old])
    except ValueError:
        raise BackupError("invalid key: a Fernet key is 32 bytes in url-safe base64 (44 characters)")


def decrypt(fernet, src, dst):
    expected, stream_id, done = 0, None, False
    for line in src:
        line = line.rstrip(b"\r\n")
        if not line:
            continue
        if done:
            raise BackupError("chunked backup is not intact: data follows the final chunk")
        try:
            plain = fernet.decrypt(line)
        except InvalidToken:
            raise BackupError("chunk %d could not be verified: wrong key, or the backup was altered" % expected)
        if len(plain) < HEADER.size:
            raise BackupError("not a chunked backup (version 1)")
        magic, flags, index, sid = HEADER.unpack_from(plain)
        if magic != MAGIC or flags & ~FINAL:
            raise BackupError("not a chunked backup (version 1)")
        if stream_id is None:
            stream_id = sid
        if sid != stream_id:
            raise BackupError("chunked backup is not intact: a chunk of another backup")
        if index != expected:
            raise BackupError("chunked backup is not intact: chunk %d where chunk %d was expected" % (index, expected))
        dst.write(plain[HEADER.size:])
        expected += 1
        done = bool(flags & FINAL)
    if not done:
        raise BackupError("chunked backup ends before its final chunk: the file is truncated")


def encrypt(fernet, src, dst, chunk_size):
    stream_id, index = os.urandom(16), 0
    data = src.read(chunk_size)
    while True:
        following = src.read(chunk_size)
        flags = 0 if following else FINAL
        dst.write(fernet.encrypt(HEADER.pack(MAGIC, flags, index, stream_id) + data) + b"\n")
        if not following:
            return
        data, index = following, index + 1


def main():
    ap = Parser(description="Read or write @org/backup-crypto chunked backups.")
    ap.add_argument("command", choices=["decrypt", "encrypt"])
    ap.add_argument("input", help="file, or - for stdin")
    ap.add_argument("output", help="file, or - for stdout")
    ap.add_argument("--key-file", help="file holding the key (default: $BACKUP_ENCRYPTION_KEY)")
    ap.add_argument("--chunk-size", type=int, default=1 << 16, help="bytes per chunk (encrypt; default 65536)")
    args = ap.parse_args()
    try:
        fernet = load_keys(args.key_file)
        src = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")
        dst = sys.stdout.buffer if args.output == "-" else open(args.output + ".partial", "wb")
        with src:
            if args.command == "decrypt":
                decrypt(fernet, src, dst)
            else:
                encrypt(fernet, src, dst, args.chunk_size)
        if args.output != "-":
            dst.close()
            os.replace(args.output + ".partial", args.output)
    except (BackupError, OSError) as e:
        if args.output != "-" and os.path.exists(args.output + ".partial"):
            os.unlink(args.output + ".partial")
        sys.exit("fernet_chunked: %s" % redact(str(e), sys.argv[1:]))


if __name__ == "__main__":
    main()
