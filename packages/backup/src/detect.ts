import { type FernetKey, MultiFernet } from '@org/backup-crypto';
import type { Compression, Manifest } from './manifest.js';
import type { BackupTarget } from './options.js';

/** The first line of an object, or its first 128 KiB: enough to tell the formats apart. */
async function readHead(storage: BackupTarget, key: string, signal: AbortSignal): Promise<Buffer> {
  const stream = await storage.getStream(key, { signal });
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      parts.push(c);
      n += c.length;
      if (c.includes(0x0a) || n >= 128 * 1024) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(parts);
}

/** @internal Finds the format of a file without a manifest: chunked (a first line that opens to a chunk) or one token (legacy). */
export async function detectFormat(
  keys: readonly FernetKey[],
  storage: BackupTarget,
  key: string,
  signal: AbortSignal,
): Promise<{ format: Manifest['format']; compression: Compression }> {
  const head = await readHead(storage, key, signal);
  const nl = head.indexOf(0x0a);
  if (nl > 0) {
    try {
      const plain = new MultiFernet([...keys]).decrypt(head.subarray(0, nl));
      if (plain.subarray(0, 5).toString('latin1') === 'FNTC\x01') {
        const body = plain.subarray(30);
        const compression: Compression =
          body[0] === 0x1f && body[1] === 0x8b
            ? 'gzip'
            : body.readUInt32LE(0) === 0xfd2fb528
              ? 'zstd'
              : 'none';
        return { format: 'pg-custom+chunked-fernet', compression };
      }
    } catch {
      // One token over the whole file (or not ours at all): the first pass will tell.
    }
  }
  return { format: 'legacy-fernet', compression: 'none' };
}
