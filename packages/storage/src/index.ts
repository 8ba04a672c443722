export { createLocalDriver, type LocalDriver, type LocalDriverOptions } from './drivers/local.js';
export type {
  RetryFn,
  RetryInfo,
  S3DriverOptions,
  S3RetryOptions,
} from './drivers/s3-options.js';
export { createStorageFromEnv, type EnvStorageOverrides } from './env.js';
export { isStorageError, StorageError, StorageErrorCode } from './errors.js';
export {
  OPERATION_CHANNEL,
  RETRY_CHANNEL,
  type StorageEvents,
  type StorageListener,
} from './events.js';
export {
  createSignedUrlHandler,
  type SignedUrlHandler,
  type SignedUrlHandlerOptions,
  type StorageHandlerOptions,
} from './handler.js';
export {
  isValidKey,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  validateKey,
  validatePrefix,
} from './keys.js';
export {
  createUrlSigner,
  type SignedRequest,
  type UrlSigner,
  type UrlSigningOptions,
} from './signing.js';
export {
  createStorage,
  type ListIterOptions,
  type Storage,
  type StorageOptions,
} from './storage.js';
export type {
  Body,
  ByteRange,
  CallOptions,
  GetOptions,
  ListOptions,
  ListPage,
  ObjectInfo,
  PutOptions,
  PutResult,
  SignedMethod,
  SignedUrlOptions,
  StorageDriver,
  StorageHealth,
} from './types.js';
