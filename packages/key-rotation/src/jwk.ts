/**
 * A JSON Web Key (RFC 7517) as this package reads and writes it: the members of the RSA, EC,
 * OKP and `oct` key types it uses, plus any others. The package's own type, so that it does not
 * depend on `crypto.JsonWebKey` (gone from `@types/node` 25).
 */
export interface Jwk {
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
  [member: string]: unknown;
}
