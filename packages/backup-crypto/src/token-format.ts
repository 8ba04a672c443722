import { invalidToken } from './errors.js';

/** @internal The Fernet token layout: version ‖ timestamp ‖ IV ‖ ciphertext ‖ HMAC. */
export const VERSION = 0x80;
/** @internal Version (1) + timestamp (8) + IV (16). */
export const HEADER_BYTES = 25;
/** @internal HMAC-SHA256 tag. */
export const MAC_BYTES = 32;
/** @internal AES block. */
export const BLOCK_BYTES = 16;
/** @internal The shortest valid token: header, one padding block, MAC. */
export const MIN_TOKEN_BYTES = HEADER_BYTES + BLOCK_BYTES + MAC_BYTES;

/** @internal Checks what can be checked of decoded token bytes without a key. */
export function checkTokenShape(data: Buffer): Buffer {
  if (data.length < MIN_TOKEN_BYTES || data[0] !== VERSION) throw invalidToken();
  if ((data.length - HEADER_BYTES - MAC_BYTES) % BLOCK_BYTES !== 0) throw invalidToken();
  return data;
}

/** @internal The 25-byte token header for a timestamp (unix seconds) and IV. */
export function tokenHeader(timestamp: number, iv: Uint8Array): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header[0] = VERSION;
  header.writeBigUInt64BE(BigInt(timestamp), 1);
  header.set(iv, 9);
  return header;
}

/** @internal The token's timestamp in unix seconds. */
export function readTimestamp(data: Buffer): number {
  return Number(data.readBigUInt64BE(1));
}
