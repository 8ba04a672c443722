import type { S3DriverOptions } from './drivers/s3-options.js';
import type { UrlSigningOptions } from './signing.js';
import { createStorage, type Storage, type StorageOptions } from './storage.js';

/** What `createStorageFromEnv` lets code set over the environment. */
export interface EnvStorageOverrides extends Omit<StorageOptions, 'driver' | 's3' | 'local'> {
  /** Signed-URL settings of the local driver; the environment's secret and URL win. @default {} */
  signing?: UrlSigningOptions;
}

/** The namespaces `createStorageFromEnv` declares: `data/pdfs`, `data/uploads`, `data/logos`. */
export const DEFAULT_NAMESPACES = ['pdfs', 'uploads', 'logos'] as const;

/**
 * Creates the storage the environment describes:
 * - `AWS_S3_BUCKET` set: S3, with `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
 *   (else the SDK's provider chain) and `S3_ENDPOINT` for R2 or another S3-compatible server.
 *   An endpoint on `r2.cloudflarestorage.com`, or `AWS_REGION=auto`, selects the R2 profile;
 *   any other endpoint gets path-style URLs (MinIO, moto). `S3_FORCE_PATH_STYLE=true|false`
 *   overrides that.
 * - nothing set: the local disk under `STORAGE_ROOT` (default `./data`), with signed URLs made
 *   with `STORAGE_SIGNING_SECRET` (default: random per process) for `STORAGE_PUBLIC_URL`
 *   (default `http://localhost:3000/storage/signed`).
 * `overrides` are merged over what the environment gives (e.g. `{ timeout: 5000 }`).
 */
export function createStorageFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: EnvStorageOverrides = {},
): Storage {
  const { signing: signingOverrides, ...rest } = overrides;
  const base: StorageOptions = { namespaces: DEFAULT_NAMESPACES, ...rest };
  const bucket = env.AWS_S3_BUCKET?.trim();
  if (bucket) return createStorage({ ...base, s3: s3FromEnv(bucket, env) });
  const signing: UrlSigningOptions = { ...signingOverrides };
  if (env.STORAGE_SIGNING_SECRET) signing.secret = env.STORAGE_SIGNING_SECRET;
  if (env.STORAGE_PUBLIC_URL) signing.baseUrl = env.STORAGE_PUBLIC_URL;
  return createStorage({ ...base, local: { root: env.STORAGE_ROOT || './data', signing } });
}

function s3FromEnv(bucket: string, env: Record<string, string | undefined>): S3DriverOptions {
  const endpoint = env.S3_ENDPOINT?.trim() || undefined;
  const host = endpoint === undefined ? '' : new URL(endpoint).hostname;
  const r2 = host.endsWith('.r2.cloudflarestorage.com') || env.AWS_REGION === 'auto';
  const options: S3DriverOptions = { bucket, profile: r2 ? 'r2' : 'aws' };
  const region = env.AWS_REGION?.trim() || undefined;
  if (region !== undefined) options.region = region;
  if (endpoint !== undefined) options.endpoint = endpoint;
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    options.credentials = {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  const pathStyle = env.S3_FORCE_PATH_STYLE;
  options.forcePathStyle =
    pathStyle === undefined || pathStyle === ''
      ? endpoint !== undefined && !r2
      : pathStyle === 'true';
  return options;
}
