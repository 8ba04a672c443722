import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { describe, expect, it } from 'vitest';
import { chunkReader } from '../src/chunk-reader.js';

async function readAll(r: ReturnType<typeof chunkReader>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let c = await r.next(); c !== undefined; c = await r.next()) out.push(c);
  return out;
}

describe('chunkReader', () => {
  it('hands over the chunks as pushed, never concatenated, even when the consumer is slow', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 1);
    let pushed = 0;
    // A producer that pushes synchronously, faster than the consumer takes: the stream's async
    // iterator would return several chunks joined into one new buffer here.
    const stream = new Readable({
      highWaterMark: 4 * 1024 * 1024,
      read() {
        while (pushed < 8) {
          pushed++;
          if (!this.push(chunk)) return;
        }
        this.push(null);
      },
    });
    const reader = chunkReader(stream);
    const seen: Buffer[] = [];
    for (let c = await reader.next(); c !== undefined; c = await reader.next()) {
      seen.push(c);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen).toHaveLength(8);
    for (const c of seen) expect(c.buffer).toBe(chunk.buffer);
  });

  it('reads strings, Uint8Arrays and Web streams as Buffers', async () => {
    const strings = await readAll(chunkReader(Readable.from(['ab', 'cd'], { objectMode: true })));
    expect(Buffer.concat(strings).toString()).toBe('abcd');
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([1, 2]));
        c.enqueue(new Uint8Array([3]));
        c.close();
      },
    });
    const bytes = await readAll(chunkReader(Readable.fromWeb(web)));
    expect(Buffer.concat(bytes)).toEqual(Buffer.from([1, 2, 3]));
    for (const b of bytes) expect(Buffer.isBuffer(b)).toBe(true);
  });

  it('rejects with the stream error, and when the stream is destroyed early', async () => {
    let n = 0;
    const failing = new Readable({
      read() {
        if (++n > 2) this.destroy(new Error('source failed'));
        else this.push(Buffer.from('x'));
      },
    });
    await expect(readAll(chunkReader(failing))).rejects.toThrow('source failed');

    const endless = new Readable({
      read() {
        this.push(Buffer.from('y'));
      },
    });
    const reader = chunkReader(endless);
    await reader.next();
    endless.destroy();
    await expect(readAll(reader)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });
});
