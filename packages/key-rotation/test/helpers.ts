import { createHmac, randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A core `Clock` the test moves by hand, in ms; also callable (`clock()` is `clock.now()`), so
 * that tests read the time the same way they set it.
 */
export function manualClock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  const clock = () => now;
  return Object.assign(clock, {
    now: clock,
    advance(ms: number) {
      now += ms;
    },
    set(ms: number) {
      now = ms;
    },
  });
}

export const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

export function decodeHeader(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
}

export function decodePayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}

/** A HS256 token signed with `secret` over the given header and payload. */
export function hmacToken(header: unknown, payload: unknown, secret: Uint8Array | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export const encryptionKey = randomBytes(32).toString('base64');

export const uniquePrefix = (name: string) =>
  `test:key-rotation:${name}:${process.pid}:${randomBytes(4).toString('hex')}:`;

/** Deletes every key under `prefix` (this suite's own keys only; never FLUSHDB on shared Redis). */
export async function deletePrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
