import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { BadRequest, sendJson } from './app.js';

/** A request body past a route's limit: answered 413, and the connection closed. */
export class BodyTooLarge extends BadRequest {
  constructor(readonly maxBytes: number) {
    super(`the body is larger than this route's limit of ${maxBytes} bytes`, 413);
  }
}

/**
 * Throws {@link BodyTooLarge} at once when the request declares a `Content-Length` past
 * `maxBytes`, so that nothing of it is read.
 */
export function checkDeclaredSize(req: IncomingMessage, maxBytes: number): void {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) throw new BodyTooLarge(maxBytes);
}

/** A pass-through that errors with {@link BodyTooLarge} once more than `maxBytes` went by. */
export function limitBytes(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) callback(new BodyTooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
}

/**
 * The request body, at most `maxBytes` of it: a stream that errors with {@link BodyTooLarge}
 * past the limit (or at once, for a `Content-Length` past it). The request is piped, not
 * handed over, so an error downstream leaves its socket open for the 413 to be sent on.
 */
export function limitedBody(req: IncomingMessage, maxBytes: number): Transform {
  checkDeclaredSize(req, maxBytes);
  const body = limitBytes(maxBytes);
  const gone = () => body.destroy(new Error('the client closed the request before its end'));
  req.once('error', gone);
  req.once('close', () => {
    if (!req.complete) gone();
  });
  body.once('error', () => req.unpipe(body));
  return req.pipe(body);
}

/** The {@link BodyTooLarge} behind `err` (a storage driver may wrap it as its `cause`). */
export function tooLarge(err: unknown): BodyTooLarge | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e instanceof BodyTooLarge) return e;
    e = e.cause;
  }
  return undefined;
}

/**
 * Answers a refused upload without reading the rest of it: the status, `Connection: close`, and
 * the socket closed once the answer is out (a client still sending gets a reset, not a wait).
 */
export function refuseBody(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.setHeader('connection', 'close');
  res.once('finish', () => res.socket?.destroySoon());
  sendJson(res, status, body);
}

/** A counting semaphore that never queues: past `max` holders, `tryAcquire` says no. */
export interface Semaphore {
  /** A release function, or `undefined` when `max` holders already hold it. */
  tryAcquire(): (() => void) | undefined;
  readonly active: number;
  readonly max: number;
}

export function semaphore(max: number): Semaphore {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('semaphore(max): max must be ≥ 1');
  let active = 0;
  return {
    tryAcquire() {
      if (active >= max) return undefined;
      active++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        active--;
      };
    },
    get active() {
      return active;
    },
    max,
  };
}
