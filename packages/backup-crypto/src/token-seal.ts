import { type Cipher, createCipheriv, createHmac, type Hmac } from 'node:crypto';
import type { KeyParts } from './key.js';
import { recordEncrypted } from './telemetry.js';
import { BLOCK_BYTES, HEADER_BYTES, MAC_BYTES } from './token-format.js';

/**
 * @internal Plaintext per AES call: a multiple of 16 (AES) and 3 (base64). Each call's output is
 * MACed and encoded while it is still in cache, and small outputs are recycled by the allocator
 * instead of freshly mapped (on many VMs first-touching a page costs more than encrypting it).
 */
export const SLICE_BYTES = 48 * 1024;

/**
 * @internal Tokens up to this size (bytes before base64) are assembled in one buffer kept for
 * the next call, so that a loop of `encrypt` calls does not map and fault in new memory each
 * time; larger tokens get their own buffer.
 */
const KEPT_BYTES = 4 * 1024 * 1024;
let kept = Buffer.alloc(0);

const padding = (bytes: number) => ['', '==', '='][bytes % 3]!;

/**
 * @internal Encrypts `data` into a token string. The ciphertext of each slice is MACed while hot
 * and copied into one buffer of the token's exact size, which is then base64-encoded in one call:
 * Node's encoder writes a string of that size without another copy, where joining slice strings
 * would be copied again when V8 flattens the result.
 */
export function sealToken(keys: KeyParts, header: Buffer, data: Uint8Array): string {
  const cipher = createCipheriv('aes-128-cbc', keys.encryptionKey, header.subarray(9));
  const hmac = createHmac('sha256', keys.signingKey).update(header);
  const size = HEADER_BYTES + (Math.floor(data.length / BLOCK_BYTES) + 1) * BLOCK_BYTES + MAC_BYTES;
  let out: Buffer;
  if (size <= KEPT_BYTES) {
    if (kept.length < size) kept = Buffer.allocUnsafe(Math.max(size, 64 * 1024));
    out = kept;
  } else {
    out = Buffer.allocUnsafe(size);
  }
  header.copy(out, 0);
  let at = HEADER_BYTES;
  for (let from = 0; from < data.length; from += SLICE_BYTES) {
    const body = cipher.update(data.subarray(from, from + SLICE_BYTES));
    hmac.update(body);
    at += body.copy(out, at);
  }
  const last = cipher.final();
  hmac.update(last);
  at += last.copy(out, at);
  hmac.digest().copy(out, at);
  recordEncrypted(data.length);
  return out.toString('base64url', 0, size) + padding(size);
}

/**
 * @internal Encrypts one token incrementally (data in pieces of any size) and hands out its
 * url-safe base64 text as latin1 bytes, in pieces of 64 Ki characters but the last. Ciphertext
 * is gathered into one reused buffer of SLICE_BYTES (a multiple of 3), so no bytes are carried
 * between pieces and no intermediate buffer outlives a call.
 */
export class TokenSealer {
  readonly #keys: KeyParts;
  readonly #emit: (text: Buffer) => void;
  readonly #stage = Buffer.allocUnsafe(SLICE_BYTES);
  #staged = 0;
  #cipher: Cipher;
  #hmac: Hmac;

  constructor(keys: KeyParts, header: Buffer, emit: (text: Buffer) => void) {
    this.#keys = keys;
    this.#emit = emit;
    [this.#cipher, this.#hmac] = this.#begin(header);
  }

  /** Starts the next token (after `end`), reusing this sealer's buffer. */
  restart(header: Buffer): void {
    [this.#cipher, this.#hmac] = this.#begin(header);
  }

  #begin(header: Buffer): [Cipher, Hmac] {
    this.#stage.set(header);
    this.#staged = header.length;
    return [
      createCipheriv('aes-128-cbc', this.#keys.encryptionKey, header.subarray(9)),
      createHmac('sha256', this.#keys.signingKey).update(header),
    ];
  }

  /** Encrypts `data`, emitting the text of every full stage. */
  update(data: Uint8Array): void {
    for (let at = 0; at < data.length; at += SLICE_BYTES) {
      const body = this.#cipher.update(data.subarray(at, at + SLICE_BYTES));
      this.#hmac.update(body);
      this.#add(body);
    }
  }

  /** Pads, appends the MAC and emits the rest of the text, with base64 padding. */
  end(): void {
    const last = this.#cipher.final();
    this.#hmac.update(last);
    this.#add(last);
    this.#add(this.#hmac.digest());
    const n = this.#staged;
    this.#emit(Buffer.from(this.#stage.toString('base64url', 0, n) + padding(n), 'latin1'));
    this.#staged = 0;
  }

  #add(bytes: Buffer): void {
    let from = 0;
    while (from < bytes.length) {
      const n = bytes.copy(this.#stage, this.#staged, from);
      from += n;
      this.#staged += n;
      if (this.#staged === this.#stage.length) {
        this.#emit(Buffer.from(this.#stage.toString('base64url'), 'latin1'));
        this.#staged = 0;
      }
    }
  }
}
