import { FernetError, FernetErrorCode } from './errors.js';

/**
 * @internal The header at the start of every chunk's plaintext, inside the Fernet token (so it is
 * authenticated with it):
 *
 * | bytes | field |
 * |---|---|
 * | 0–3 | magic `FNTC` |
 * | 4 | format version, `1` |
 * | 5 | flags: bit 0 = final chunk, other bits 0 |
 * | 6–13 | chunk index, unsigned 64-bit big-endian, from 0 |
 * | 14–29 | stream id: 16 random bytes, the same in every chunk of one backup |
 */
export const CHUNK_MAGIC = Buffer.from('FNTC\x01', 'latin1');
/** @internal */
export const CHUNK_HEADER_BYTES = 30;
/** @internal */
export const FLAG_FINAL = 0x01;

/** @internal A parsed chunk header. */
export interface ChunkHeader {
  readonly final: boolean;
  readonly index: bigint;
  readonly streamId: Buffer;
}

/** @internal */
export function writeChunkHeader(
  target: Buffer,
  index: bigint,
  final: boolean,
  streamId: Buffer,
): void {
  CHUNK_MAGIC.copy(target, 0);
  target[5] = final ? FLAG_FINAL : 0;
  target.writeBigUInt64BE(index, 6);
  streamId.copy(target, 14);
}

/** @internal Parses an authenticated chunk plaintext's header, or throws ERR_FERNET_CHUNK_FORMAT. */
export function readChunkHeader(plain: Buffer): ChunkHeader {
  if (
    plain.length < CHUNK_HEADER_BYTES ||
    !plain.subarray(0, CHUNK_MAGIC.length).equals(CHUNK_MAGIC) ||
    (plain[5]! & ~FLAG_FINAL) !== 0
  ) {
    throw new FernetError(
      FernetErrorCode.ChunkFormat,
      'Authentic Fernet token that is not a chunk of the chunked backup format (version 1): ' +
        'decrypt it without the chunked option',
    );
  }
  return {
    final: (plain[5]! & FLAG_FINAL) !== 0,
    index: plain.readBigUInt64BE(6),
    streamId: plain.subarray(14, CHUNK_HEADER_BYTES),
  };
}
