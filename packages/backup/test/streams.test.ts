import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { keyId } from '../src/index.js';
import { keyRing, keysFor } from '../src/keys.js';
import { isBackupId, newBackupId, parseKey, parseManifest } from '../src/manifest.js';
import { FanOut, HoldBack } from '../src/streams.js';

const MiB = 1024 * 1024;

function source(total: number, chunk = 64 * 1024): Readable {
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(chunk, left);
      left -= n;
      this.push(Buffer.alloc(n, left % 251));
    },
  });
}

/** Reads a branch at `bytesPerTick` every millisecond: a slow upload. */
function consume(stream: Readable, delayMs: number): Promise<number> {
  let n = 0;
  return pipeline(
    stream,
    new Writable({
      write(chunk: Buffer, _e, cb) {
        n += chunk.length;
        if (delayMs === 0) cb();
        else setTimeout(cb, delayMs);
      },
    }),
  ).then(() => n);
}

describe('FanOut', () => {
  it('the slowest branch paces the stream: what is buffered stays bounded', async () => {
    const fan = new FanOut(['fast', 'slow'], async () => {});
    const [fast, slow] = fan.branches;
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(
        peak,
        fast!.stream.readableLength + fast!.stream.writableLength,
        slow!.stream.readableLength + slow!.stream.writableLength,
      );
    }, 1);
    const done = Promise.all([consume(fast!.stream, 0), consume(slow!.stream, 2)]);
    await pipeline(source(32 * MiB), fan);
    const [a, b] = await done;
    clearInterval(timer);
    expect(a).toBe(32 * MiB);
    expect(b).toBe(32 * MiB);
    // Each branch holds at most about its 1 MiB high-water mark plus a chunk, never the stream.
    expect(peak).toBeLessThan(3 * MiB);
  });

  it('a dropped branch lets the others finish; all dropped fails the stream', async () => {
    const fan = new FanOut(['a', 'b'], async () => {});
    const [a, b] = fan.branches;
    const got = consume(a!.stream, 0);
    // b is never read: without the drop the stream would stall at b's high-water mark.
    setTimeout(() => fan.drop('b', new Error('target down')), 20);
    await pipeline(source(8 * MiB), fan);
    expect(await got).toBe(8 * MiB);
    expect(b!.failed).toBe(true);

    const lonely = new FanOut(['x'], async () => {});
    setTimeout(() => lonely.drop('x', new Error('down')), 20);
    await expect(pipeline(source(8 * MiB), lonely)).rejects.toMatchObject({
      code: 'ERR_BACKUP_UPLOAD_FAILED',
    });
  });

  it('ends no branch when the check before the end fails, so no upload completes', async () => {
    const fan = new FanOut(['a'], async () => {
      throw new Error('pg_dump exited 1');
    });
    let ended = false;
    fan.branches[0]!.stream.on('end', () => {
      ended = true;
    });
    const read = consume(fan.branches[0]!.stream, 0).catch((e: Error) => e);
    await expect(pipeline(source(MiB), fan)).rejects.toThrow('pg_dump exited 1');
    expect(await read).toBeInstanceOf(Error);
    expect(ended).toBe(false);
  });
});

describe('HoldBack', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('releases everything once the check passes', async () => {
    const data = Buffer.alloc(3 * MiB, 7);
    const out: Buffer[] = [];
    const pieces = Array.from({ length: 48 }, (_, i) =>
      data.subarray(i * 65_536, (i + 1) * 65_536),
    );
    await pipeline(
      Readable.from(pieces),
      new HoldBack(MiB, (s, n) => expect([s, n]).toEqual([sha(data), data.length])),
      async (src: AsyncIterable<Buffer>) => {
        for await (const c of src) out.push(c as Buffer);
      },
    );
    expect(Buffer.concat(out).length).toBe(data.length);
  });

  it('keeps the last bytes back when the check fails', async () => {
    let released = 0;
    const hold = new HoldBack(MiB, () => {
      throw new Error('changed');
    });
    await expect(
      pipeline(
        source(4 * MiB),
        hold,
        new Writable({
          write: (c: Buffer, _e, cb) => {
            released += c.length;
            cb();
          },
        }),
      ),
    ).rejects.toThrow('changed');
    expect(released).toBeLessThanOrEqual(3 * MiB);
  });
});

describe('keys and manifests', () => {
  it('a key id is the first 8 hex digits of the SHA-256 of the 32 key bytes', () => {
    const bytes = Buffer.alloc(32, 1);
    const key = `${bytes.toString('base64url')}=`;
    expect(keyId(key)).toBe(createHash('sha256').update(bytes).digest('hex').slice(0, 8));
    expect(keyId(bytes)).toBe(keyId(key));
    expect(() => keyId('short')).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
  });

  it('a ring refuses a non-key without echoing it, and names the key id a backup needs', () => {
    const secret = 'definitely-not-a-fernet-key-but-secret';
    try {
      keyRing(secret);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'ERR_BACKUP_INVALID_OPTION' });
      expect((err as Error).message).not.toContain(secret);
    }
    const ring = keyRing(`${Buffer.alloc(32, 2).toString('base64url')}=`);
    expect(() => keysFor(ring, 'deadbeef')).toThrow(/key id deadbeef/);
  });

  it('ids sort by time and parse back; manifests are checked', () => {
    const a = newBackupId(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(a).toMatch(/^20260102T030405Z-[0-9a-f]{6}$/);
    expect(isBackupId(a)).toBe(true);
    expect(parseKey(`db/${a}.backup`)).toEqual({ id: a, kind: 'data' });
    expect(parseKey(`db/${a}.manifest.json`)).toEqual({ id: a, kind: 'manifest' });
    expect(parseKey('db/other.backup')).toBeUndefined();
    expect(() => parseManifest(Buffer.from('{'))).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_MANIFEST' }),
    );
    expect(() =>
      parseManifest(Buffer.from(JSON.stringify({ version: 1, id: a, format: 'x' }))),
    ).toThrow(/format/);
  });
});
