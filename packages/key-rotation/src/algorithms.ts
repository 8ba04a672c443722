import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPair,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { decodeBase64url, encodeBase64url } from './base64url.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { Jwk } from './jwk.js';

/** The JWS algorithms a ring can hold. */
export type Algorithm = 'RS256' | 'ES256' | 'EdDSA' | 'HS256';

/** Every supported algorithm, in the order of the docs. */
export const ALGORITHMS: readonly Algorithm[] = ['RS256', 'ES256', 'EdDSA', 'HS256'];

/** A public JWK as published in a JWKS. */
export type PublicJwk = Jwk & {
  kid: string;
  alg: Algorithm;
  use: 'sig';
};

/** A key imported once into node:crypto, ready for the hot path. */
export interface ImportedKey {
  readonly kid: string;
  readonly alg: Algorithm;
  /** Private or secret key; absent for a key known only by its public half (remote JWKS). */
  readonly signingKey: KeyObject | undefined;
  /** Public key (asymmetric) or the secret (HS256). */
  readonly verifyingKey: KeyObject;
  /** The public JWK, for asymmetric keys only. */
  readonly publicJwk: PublicJwk | undefined;
  /** Exact signature length in bytes for this key. */
  readonly signatureBytes: number;
}

const generatePair = promisify(generateKeyPair);

/** Minimum HS256 secret: 256 bits (RFC 7518 §3.2). */
export const MIN_HMAC_SECRET_BYTES = 32;

export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value);
}

/** Creates fresh key material for `alg` as a private (or `oct`) JWK. */
export async function generateJwk(alg: Algorithm, modulusLength = 2048): Promise<Jwk> {
  if (alg === 'HS256') return { kty: 'oct', k: encodeBase64url(randomBytes(32)) };
  const pair =
    alg === 'RS256'
      ? await generatePair('rsa', { modulusLength, publicExponent: 0x10001 })
      : alg === 'ES256'
        ? await generatePair('ec', { namedCurve: 'P-256' })
        : await generatePair('ed25519');
  return pair.privateKey.export({ format: 'jwk' });
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members of the key type. */
export function thumbprint(jwk: Jwk): string {
  let members: Record<string, unknown>;
  switch (jwk.kty) {
    case 'RSA':
      members = { e: jwk.e, kty: 'RSA', n: jwk.n };
      break;
    case 'EC':
      members = { crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y };
      break;
    case 'OKP':
      members = { crv: jwk.crv, kty: 'OKP', x: jwk.x };
      break;
    case 'oct':
      members = { k: jwk.k, kty: 'oct' };
      break;
    default:
      throw new KeyRotationError(
        KeyRotationErrorCode.InvalidOption,
        `unsupported JWK kty "${String(jwk.kty)}"`,
      );
  }
  for (const v of Object.values(members)) {
    if (typeof v !== 'string')
      throw new KeyRotationError(KeyRotationErrorCode.InvalidOption, 'incomplete JWK');
  }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function checkKeyShape(alg: Algorithm, key: KeyObject): void {
  const d = key.asymmetricKeyDetails;
  const ok =
    alg === 'RS256'
      ? key.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) >= 2048
      : alg === 'ES256'
        ? key.asymmetricKeyType === 'ec' && d?.namedCurve === 'prime256v1'
        : alg === 'EdDSA'
          ? key.asymmetricKeyType === 'ed25519'
          : key.type === 'secret' && (key.symmetricKeySize ?? 0) >= MIN_HMAC_SECRET_BYTES;
  if (!ok) {
    throw new KeyRotationError(
      KeyRotationErrorCode.InvalidOption,
      `key does not fit ${alg} (RS256: RSA >= 2048 bits, ES256: P-256, EdDSA: Ed25519, HS256: >= 32 bytes)`,
    );
  }
}

/** Imports a private/secret JWK once into KeyObjects; the kid is its RFC 7638 thumbprint. */
export function importPrivateJwk(alg: Algorithm, jwk: Jwk): ImportedKey {
  if (alg === 'HS256') {
    const secret = typeof jwk.k === 'string' ? decodeBase64url(jwk.k) : undefined;
    if (jwk.kty !== 'oct' || secret === undefined) {
      throw new KeyRotationError(KeyRotationErrorCode.InvalidOption, 'HS256 needs an oct JWK');
    }
    const key = createSecretKey(secret);
    checkKeyShape(alg, key);
    return {
      kid: thumbprint(jwk),
      alg,
      signingKey: key,
      verifyingKey: key,
      publicJwk: undefined,
      signatureBytes: 32,
    };
  }
  const signingKey = createPrivateKey({ key: jwk, format: 'jwk' });
  checkKeyShape(alg, signingKey);
  const verifyingKey = createPublicKey(signingKey);
  return withPublic(alg, signingKey, verifyingKey);
}

/** Imports a public JWK (from a JWKS) for verification only. */
export function importPublicJwk(alg: Exclude<Algorithm, 'HS256'>, jwk: Jwk): ImportedKey {
  if (jwk.d !== undefined) {
    throw new KeyRotationError(
      KeyRotationErrorCode.JwksInvalid,
      'the JWKS holds a private key; refusing it',
    );
  }
  const verifyingKey = createPublicKey({ key: jwk, format: 'jwk' });
  checkKeyShape(alg, verifyingKey);
  return withPublic(alg, undefined, verifyingKey);
}

function withPublic(
  alg: Algorithm,
  signingKey: KeyObject | undefined,
  verifyingKey: KeyObject,
): ImportedKey {
  const pub = verifyingKey.export({ format: 'jwk' });
  const kid = thumbprint(pub);
  const publicJwk: PublicJwk = { ...pub, kid, alg, use: 'sig' };
  const signatureBytes =
    alg === 'RS256' ? (verifyingKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8 : 64;
  return { kid, alg, signingKey, verifyingKey, publicJwk, signatureBytes };
}

const HASH: Record<Algorithm, string | null> = {
  RS256: 'sha256',
  ES256: 'sha256',
  EdDSA: null,
  HS256: 'sha256',
};

/** Signs `input` (the JWS signing input) and returns the base64url signature. */
export function signInput(alg: Algorithm, key: KeyObject, input: string): string {
  if (alg === 'HS256') return createHmac('sha256', key).update(input).digest('base64url');
  const data = Buffer.from(input, 'latin1');
  const sig =
    alg === 'ES256'
      ? cryptoSign(HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign(HASH[alg], data, key);
  return sig.toString('base64url');
}

/** Verifies a base64url signature over `input`; false on any mismatch, never throws. */
export function verifyInput(key: ImportedKey, input: string, sig: string): boolean {
  if (key.alg === 'HS256') {
    // Comparing the canonical encodings refuses non-canonical spellings as well.
    const expected = Buffer.from(
      createHmac('sha256', key.verifyingKey).update(input).digest('base64url'),
      'latin1',
    );
    const given = Buffer.from(sig, 'latin1');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  const bytes = decodeBase64url(sig);
  if (bytes === undefined || bytes.length !== key.signatureBytes) return false;
  const data = Buffer.from(input, 'latin1');
  try {
    return key.alg === 'ES256'
      ? cryptoVerify('sha256', data, { key: key.verifyingKey, dsaEncoding: 'ieee-p1363' }, bytes)
      : cryptoVerify(HASH[key.alg], data, key.verifyingKey, bytes);
  } catch {
    return false;
  }
}
