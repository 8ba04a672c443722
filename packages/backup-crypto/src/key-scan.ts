import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Base64UrlDecoder } from './base64-stream.js';
import { invalidToken } from './errors.js';
import type { KeyParts } from './key.js';
import { HEADER_BYTES, MAC_BYTES, readTimestamp, VERSION } from './token-format.js';

/** @internal Which key authenticates a token file, and its timestamp. */
export interface ScanResult {
  readonly index: number;
  readonly timestamp: number;
}

/**
 * @internal Reads a single-token file once, computing its HMAC under every key (no decryption),
 * to learn which key made it. Throws ERR_FERNET_INVALID_TOKEN when none did.
 */
export async function scanTokenFile(
  path: string,
  keys: readonly KeyParts[],
  signal?: AbortSignal,
): Promise<ScanResult> {
  const decoder = new Base64UrlDecoder();
  const macs = keys.map((k) => createHmac('sha256', k.signingKey));
  let head: Buffer = Buffer.alloc(0);
  let tail: Buffer = Buffer.alloc(0);
  const absorb = (bytes: Buffer) => {
    if (head.length < HEADER_BYTES) {
      head = Buffer.concat([head, bytes.subarray(0, HEADER_BYTES - head.length)]);
    }
    const all = tail.length === 0 ? bytes : Buffer.concat([tail, bytes]);
    const release = Math.max(0, all.length - MAC_BYTES);
    for (const mac of macs) mac.update(all.subarray(0, release));
    tail = Buffer.from(all.subarray(release));
  };
  for await (const chunk of createReadStream(path, { signal })) absorb(decoder.write(chunk));
  decoder.end();
  if (head.length < HEADER_BYTES || head[0] !== VERSION || tail.length < MAC_BYTES) {
    throw invalidToken();
  }
  let index = -1;
  // Every key is checked, so the time taken does not tell which one matched.
  macs.forEach((mac, i) => {
    if (timingSafeEqual(mac.digest(), tail) && index === -1) index = i;
  });
  if (index === -1) throw invalidToken();
  return { index, timestamp: readTimestamp(head) };
}
