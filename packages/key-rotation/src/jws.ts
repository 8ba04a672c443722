import { type Algorithm, type ImportedKey, signInput, verifyInput } from './algorithms.js';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import { type ClaimChecks, type JwtPayload, validateClaims } from './claims.js';
import { KeyRotationError, KeyRotationErrorCode, SIGNATURE_MESSAGE } from './errors.js';

/** The protected header of a verified token. */
export interface ProtectedHeader {
  /** The key's pinned algorithm (`Ed25519` is accepted as the RFC 9864 name of EdDSA). */
  alg: Algorithm | 'Ed25519';
  /** Always present, except on legacy tokens accepted by `fromSecret(…, { acceptMissingKid })`. */
  kid?: string;
  typ?: string;
  [param: string]: unknown;
}

/**
 * Where verification finds keys: by kid only (undefined: no kid in the header). Returns
 * undefined for an unknown kid; may throw `ERR_JWT_KEY_RETIRED`.
 */
export type KeyLookup = (kid: string | undefined) => ImportedKey | undefined;

/** Default `maxTokenBytes`: 8 KiB, above any sane JWT and below header-size limits of proxies. */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

/** The exact protected header this package writes for a key; verify recognises it unparsed. */
export function headerSegment(key: Pick<ImportedKey, 'alg' | 'kid'>): string {
  return encodeBase64url(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT' }));
}

/** Signs `payload` with `key`, using the precomputed header segment. */
export function signCompact(
  key: ImportedKey,
  header: string,
  payload: Record<string, unknown>,
): string {
  if (key.signingKey === undefined) {
    throw new KeyRotationError(
      KeyRotationErrorCode.NoActiveKey,
      'this key has no private half to sign with',
    );
  }
  const input = `${header}.${encodeBase64url(JSON.stringify(payload))}`;
  return `${input}.${signInput(key.alg, key.signingKey, input)}`;
}

const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function invalid(message: string): KeyRotationError {
  return new KeyRotationError(KeyRotationErrorCode.JwtInvalid, message);
}

function parseJson(segment: string, what: string): Record<string, unknown> {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) throw invalid(`the ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(`the ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`the ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Header segments this process wrote or already checked, so the hot path skips their parse. */
export class HeaderCache {
  private readonly map = new Map<string, ProtectedHeader>();
  constructor(private readonly max = 256) {}
  get(segment: string): ProtectedHeader | undefined {
    return this.map.get(segment);
  }
  set(segment: string, header: ProtectedHeader): void {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(segment, header);
  }
}

function parseHeader(segment: string): ProtectedHeader {
  const h = parseJson(segment, 'protected header');
  if (typeof h.alg !== 'string') throw invalid('the header has no alg');
  if (h.alg === 'none' || h.alg === '') throw invalid('unsecured tokens (alg "none") are refused');
  if (h.crit !== undefined) {
    // This verifier understands no extension, so any critical one is refused (RFC 7515 §4.1.11).
    throw invalid('the header lists crit extensions this verifier does not understand');
  }
  if (h.b64 !== undefined) throw invalid('the b64 header parameter is not supported');
  if (h.kid !== undefined && (typeof h.kid !== 'string' || h.kid.length === 0)) {
    throw new KeyRotationError(
      KeyRotationErrorCode.JwtUnknownKid,
      'the token header kid is not a string',
    );
  }
  return h as ProtectedHeader;
}

/** The outcome of a verification. */
export interface Verified {
  payload: JwtPayload;
  protectedHeader: ProtectedHeader;
  key: ImportedKey;
}

/**
 * Verifies a compact JWS: size, shape, header, kid lookup, pinned algorithm, signature, then
 * claims. Every refusal is a KeyRotationError with a stable code.
 */
export function verifyCompact(
  token: unknown,
  lookup: KeyLookup,
  checks: ClaimChecks,
  maxTokenBytes: number,
  headers: HeaderCache,
): Verified {
  if (typeof token !== 'string') throw invalid('the token must be a string');
  // Refused before any parsing: the length in UTF-16 units bounds the work of every step below.
  if (token.length > maxTokenBytes) {
    throw new KeyRotationError(
      KeyRotationErrorCode.JwtTooLarge,
      `the token is larger than maxTokenBytes (${maxTokenBytes})`,
    );
  }
  if (!COMPACT.test(token)) throw invalid('the token is not a compact JWS (three base64url parts)');
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  const headerSeg = token.slice(0, dot1);
  let header = headers.get(headerSeg);
  if (header === undefined) {
    header = parseHeader(headerSeg);
  }
  const key = lookup(header.kid);
  if (key === undefined) {
    throw new KeyRotationError(
      KeyRotationErrorCode.JwtUnknownKid,
      header.kid === undefined
        ? 'the token header has no kid'
        : 'no key with the kid of this token',
    );
  }
  // The algorithm is the key's, never the token's: refuses alg confusion (HS256 over a public key).
  // `Ed25519` is the fully specified name (RFC 9864) of what an EdDSA key over Ed25519 does.
  const sameAlg = header.alg === key.alg || (header.alg === 'Ed25519' && key.alg === 'EdDSA');
  if (!sameAlg) throw invalid(`the token alg does not match the key (${key.alg})`);
  if (!verifyInput(key, token.slice(0, dot2), token.slice(dot2 + 1))) {
    throw new KeyRotationError(KeyRotationErrorCode.JwtSignatureInvalid, SIGNATURE_MESSAGE);
  }
  headers.set(headerSeg, header);
  const payload = parseJson(token.slice(dot1 + 1, dot2), 'payload') as JwtPayload;
  validateClaims(payload, checks.typ === undefined ? checks : { ...checks, headerTyp: header.typ });
  return { payload, protectedHeader: header, key };
}
