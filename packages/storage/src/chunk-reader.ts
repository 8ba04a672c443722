import { finished, type Readable } from 'node:stream';
import { bodyBytes } from './body.js';

/** Pulls a stream's chunks one at a time, as the producer pushed them. */
export interface ChunkReader {
  /** The next chunk, or `undefined` once the stream has ended; rejects with the stream's error. */
  next(): Promise<Buffer | undefined>;
}

/**
 * Reads `stream` chunk by chunk in flowing mode, pausing it while a chunk waits to be taken.
 * Not the stream's async iterator: that calls `read()`, which concatenates every buffered chunk
 * into a new buffer (a 1 MiB producer then yields 2 MiB copies), and those short-lived copies
 * stay allocated until V8 collects their owners, adding tens of MiB to the peak RSS of an upload.
 */
export function chunkReader(stream: Readable): ChunkReader {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Paused before the listener is added, so that adding it does not start the flow.
  stream.pause();
  // A byte stream's chunks are Buffers, strings or Uint8Arrays: bodyBytes views each as a Buffer.
  stream.on('data', (chunk: Buffer | string | Uint8Array) => {
    queue.push(bodyBytes(chunk) as Buffer);
    stream.pause();
    notify();
  });
  finished(stream, { writable: false }, (err) => {
    if (err) failure = { error: err };
    else ended = true;
    notify();
  });
  return {
    async next() {
      for (;;) {
        const c = queue.shift();
        if (c !== undefined) return c;
        if (failure !== undefined) throw failure.error;
        if (ended) return undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          stream.resume();
        });
      }
    },
  };
}
