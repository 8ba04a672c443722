/**
 * A JSON Web Key (RFC 7517) as this package reads and writes it: the members of the RSA, EC,
 * OKP and `oct` key types it uses. The package's own type, so that it does not depend on
 * `crypto.JsonWebKey` (gone from `@types/node` 25); what `KeyObject.export({ format: 'jwk' })`
 * returns fits it under either version. A type alias, not an interface, so that it also fits
 * `@types/node` 20's index-signed `JsonWebKey` where node:crypto takes one.
 */
export type Jwk = {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  /** EC and OKP: the curve (`P-256`, `Ed25519`). */
  crv?: string;
  x?: string;
  y?: string;
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
  /** The private part (RSA, EC, OKP); never in a JWKS. */
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
  /** `oct`: the secret; never in a JWKS. */
  k?: string;
};
