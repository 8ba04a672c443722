import { type Algorithm, type ImportedKey, importPublicJwk } from './algorithms.js';
import { KeyRotationError, KeyRotationErrorCode } from './errors.js';
import type { Jwk } from './jwk.js';

/** Asymmetric algorithms a remote verifier accepts. */
export type RemoteAlgorithm = Exclude<Algorithm, 'HS256'>;

function inferAlg(jwk: Jwk): RemoteAlgorithm | undefined {
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  return undefined;
}

/**
 * Parses a JWKS document into keys by kid, importing each key once: `previous` keys whose JWK
 * is unchanged are re-used. Keys that are symmetric, not for signatures, without a kid, of an
 * algorithm not in `allowed`, or unusable are left out; a private key fails the whole set.
 */
export function parseJwks(
  text: string,
  allowed: readonly RemoteAlgorithm[],
  previous: ReadonlyMap<string, { json: string; key: ImportedKey }> | undefined,
): Map<string, { json: string; key: ImportedKey }> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new KeyRotationError(KeyRotationErrorCode.JwksInvalid, 'the JWKS is not JSON', { cause });
  }
  const list = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) {
    throw new KeyRotationError(KeyRotationErrorCode.JwksInvalid, 'the JWKS has no "keys" array');
  }
  const out = new Map<string, { json: string; key: ImportedKey }>();
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const jwk = item as Jwk & { kid?: unknown; alg?: unknown; use?: unknown };
    if (jwk.d !== undefined || jwk.k !== undefined) {
      throw new KeyRotationError(
        KeyRotationErrorCode.JwksInvalid,
        'the JWKS publishes private or symmetric key material; refusing the whole set',
      );
    }
    if (typeof jwk.kid !== 'string' || jwk.kid === '' || out.has(jwk.kid)) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const named = jwk.alg === 'Ed25519' ? 'EdDSA' : jwk.alg;
    const alg = (named ?? inferAlg(jwk)) as RemoteAlgorithm | undefined;
    if (alg === undefined || !allowed.includes(alg)) continue;
    const json = JSON.stringify(jwk);
    const old = previous?.get(jwk.kid);
    if (old?.json === json) {
      out.set(jwk.kid, old);
      continue;
    }
    try {
      const key = { ...importPublicJwk(alg, jwk), kid: jwk.kid };
      out.set(jwk.kid, { json, key });
    } catch {
      // A key this verifier cannot use (wrong curve, short RSA) is skipped, not fatal.
    }
  }
  return out;
}
