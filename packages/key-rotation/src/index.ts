export type { Algorithm, PublicJwk } from './algorithms.js';
export { ALGORITHMS, thumbprint } from './algorithms.js';
export { ENCRYPTION_KEY_ENV } from './at-rest.js';
export type { JwtPayload } from './claims.js';
export type { FileKeyStoreOptions } from './drivers/file.js';
export { createFileKeyStore } from './drivers/file.js';
export {
  isKeyRotationError,
  KeyRotationError,
  KeyRotationErrorCode,
} from './errors.js';
export type { Jwk } from './jwk.js';
export type { JwksCacheEvents, JwksFetchReason } from './jwks-cache.js';
export type { JwksHandler, JwksHandlerOptions } from './jwks-handler.js';
export { createJwksHandler, jwksResponse } from './jwks-handler.js';
export type { RemoteAlgorithm } from './jwks-keys.js';
export type { ProtectedHeader } from './jws.js';
export type { KeyRingFromEnvOptions } from './key-ring.js';
export { createKeyRing, createKeyRingFromEnv } from './key-ring.js';
export type { KeyRing, KeyRingEvents, VerifyResult } from './key-ring-types.js';
export type { KeyStore, RingState, StoredKey, StoredStatus } from './key-store.js';
export { createMemoryKeyStore } from './key-store.js';
export type { EncryptionKey, KeyRingOptions, SignOptions, VerifyOptions } from './options.js';
export type {
  IssuedRefreshToken,
  MemoryRefreshTokenStoreOptions,
  RefreshCallOptions,
  RefreshTokenEvents,
  RefreshTokenRecord,
  RefreshTokenStore,
  RefreshTokens,
  RefreshTokensOptions,
} from './refresh-tokens.js';
export { createMemoryRefreshTokenStore, createRefreshTokens } from './refresh-tokens.js';
export type {
  RemoteVerifier,
  RemoteVerifierEvents,
  RemoteVerifierOptions,
  RemoteVerifyOptions,
} from './remote-verifier.js';
export { createRemoteVerifier } from './remote-verifier.js';
export type { KeyStatus } from './ring-state.js';
export type { KeyInfo } from './ring-view.js';
export type {
  RotationSchedule,
  RotationScheduleEvents,
  RotationScheduleOptions,
  ScheduleAction,
  ScheduleRunOptions,
} from './schedule.js';
export { createRotationSchedule } from './schedule.js';
export type { FromSecretOptions, SeedKey } from './seed.js';
export { fromPrivateKey, fromSecret } from './seed.js';
