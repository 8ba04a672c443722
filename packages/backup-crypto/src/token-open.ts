import { createDecipheriv, createHmac, type Hmac, timingSafeEqual } from 'node:crypto';
import { invalidToken } from './errors.js';
import type { KeyParts } from './key.js';
import { recordDecrypted } from './telemetry.js';
import { checkTime, type TimePolicy } from './time-check.js';
import {
  BLOCK_BYTES,
  HEADER_BYTES,
  MAC_BYTES,
  MIN_TOKEN_BYTES,
  readTimestamp,
  VERSION,
} from './token-format.js';

/** Characters decoded per step: a multiple of 4, decoding to 48 KiB. */
const TEXT_SLICE = 64 * 1024;
/** Reused by every call (they are synchronous): decoding allocates nothing per slice. */
const scratch = Buffer.allocUnsafe((TEXT_SLICE / 4) * 3);

const isSpace = (c: number) => c === 0x0a || c === 0x0d || c === 0x20 || c === 0x09;

/** A token's text whose length and padding are right, and how many bytes it decodes to. */
interface TokenText {
  readonly text: string;
  readonly bytes: number;
}

function tokenText(token: string | Uint8Array): TokenText {
  let text = typeof token === 'string' ? token : Buffer.from(token).toString('latin1');
  // Trailing whitespace (a token file's final newline) is ignored, as Python ignores it.
  let end = text.length;
  while (end > 0 && isSpace(text.charCodeAt(end - 1))) end--;
  if (end !== text.length) text = text.slice(0, end);
  // Padding is required, as Python requires it.
  if (text.length % 4 !== 0) throw invalidToken();
  let pad = 0;
  while (pad < 2 && text.charCodeAt(text.length - 1 - pad) === 0x3d /* = */) pad++;
  const bytes = (text.length / 4) * 3 - pad;
  if (bytes < MIN_TOKEN_BYTES || (bytes - HEADER_BYTES - MAC_BYTES) % BLOCK_BYTES !== 0) {
    throw invalidToken();
  }
  return { text, bytes };
}

/**
 * Decodes the token slice by slice into the scratch buffer, calling `each(bytes, offset)`.
 * Node's decoder skips characters it does not know, so a slice that decodes to fewer bytes than
 * its length promises was not base64 (this also catches `=` anywhere but at the end).
 */
function forEachSlice(t: TokenText, each: (bytes: Buffer, offset: number) => void): void {
  let offset = 0;
  for (let at = 0; at < t.text.length; at += TEXT_SLICE) {
    const part = t.text.slice(at, at + TEXT_SLICE);
    const n = scratch.write(part, 0, 'base64url');
    const expected = at + TEXT_SLICE >= t.text.length ? t.bytes - offset : (part.length / 4) * 3;
    if (n !== expected) throw invalidToken();
    each(scratch.subarray(0, n), offset);
    offset += n;
  }
}

/** @internal An authentic token's plaintext and timestamp. */
export interface OpenedToken {
  readonly plaintext: Buffer;
  readonly timestamp: number;
  /** Which of the keys made it. */
  readonly keyIndex: number;
}

/**
 * @internal Verifies a token under each of `keys` (HMAC in constant time, every key tried), then
 * its time (with `policy`), then decrypts it. Two passes over the text: the first only
 * authenticates, the second decrypts into one buffer of the plaintext's size, so that nothing is
 * decrypted before the MAC has verified and no other large buffer is allocated.
 */
export function openToken(
  keys: readonly KeyParts[],
  token: string | Uint8Array,
  policy: TimePolicy | undefined,
): OpenedToken {
  const t = tokenText(token);
  const macAt = t.bytes - MAC_BYTES;
  const header = Buffer.alloc(HEADER_BYTES);
  const mac = Buffer.alloc(MAC_BYTES);
  const hmacs: Hmac[] = keys.map((k) => createHmac('sha256', k.signingKey));
  forEachSlice(t, (bytes, offset) => {
    if (offset < HEADER_BYTES) bytes.copy(header, 0, 0, HEADER_BYTES - offset);
    const signed = Math.max(0, Math.min(bytes.length, macAt - offset));
    for (const h of hmacs) h.update(bytes.subarray(0, signed));
    if (signed < bytes.length) bytes.copy(mac, offset + signed - macAt, signed);
  });
  if (header[0] !== VERSION) throw invalidToken();
  let keyIndex = -1;
  hmacs.forEach((h, i) => {
    if (timingSafeEqual(h.digest(), mac) && keyIndex === -1) keyIndex = i;
  });
  if (keyIndex === -1) throw invalidToken();
  const timestamp = readTimestamp(header);
  if (policy) checkTime(timestamp, policy);

  const decipher = createDecipheriv(
    'aes-128-cbc',
    keys[keyIndex]!.encryptionKey,
    header.subarray(9, HEADER_BYTES),
  );
  // Padding is checked here rather than by OpenSSL so that the plaintext is not copied again.
  decipher.setAutoPadding(false);
  const padded = Buffer.allocUnsafe(macAt - HEADER_BYTES);
  let written = 0;
  forEachSlice(t, (bytes, offset) => {
    const from = Math.max(0, HEADER_BYTES - offset);
    const to = Math.min(bytes.length, macAt - offset);
    if (to > from) written += decipher.update(bytes.subarray(from, to)).copy(padded, written);
  });
  written += decipher.final().copy(padded, written);
  const pad = padded[padded.length - 1]!;
  let bad = written !== padded.length || pad < 1 || pad > BLOCK_BYTES;
  for (let i = padded.length - pad; i < padded.length && !bad; i++) bad = padded[i] !== pad;
  if (bad) throw invalidToken();
  recordDecrypted(padded.length - pad);
  return { plaintext: padded.subarray(0, padded.length - pad), timestamp, keyIndex };
}
