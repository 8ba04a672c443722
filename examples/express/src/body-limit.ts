import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';

/** An upload larger than the route takes; answered 413. */
export class PayloadTooLarge extends Error {
  override name = 'PayloadTooLarge';
  readonly status = 413;
  constructor(readonly maxBytes: number) {
    super(`the upload is larger than ${maxBytes} bytes`);
  }
}

/**
 * `body`, cut off with a {@link PayloadTooLarge} error as soon as more than `maxBytes` have
 * passed: a chunked upload (no `Content-Length`) is bounded too, and nothing past the limit
 * reaches the storage.
 */
export function limitBody(body: Readable, maxBytes: number): Transform {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > maxBytes) done(new PayloadTooLarge(maxBytes));
      else done(null, chunk);
    },
  });
  body.on('error', (err) => counter.destroy(err));
  return body.pipe(counter);
}

/** Whether `err` is (or was caused by) the size limit of {@link limitBody}. */
export function isPayloadTooLarge(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof PayloadTooLarge) return true;
  }
  return false;
}
