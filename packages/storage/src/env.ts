import type { S3DriverOptions } from './drivers/s3-options.js';
import { invalidOption } from './errors.js';
import type { UrlSigningOptions } from './signing.js';
import { createStorage, type Storage, type StorageOptions } from './storage.js';

/** What `createStorageFromEnv` lets code set over the environment (`namespaces`, `timeout`…). */
export interface EnvStorageOverrides extends Omit<StorageOptions, 'driver' | 's3' | 'local'> {
  /** Signed-URL settings of the local driver; the environment's secret and URL win. @default {} */
  signing?: UrlSigningOptions | undefined;
}

/**
 * Creates the storage the environment describes. It reads these variables, and no others:
 * - `AWS_S3_BUCKET`: when set, S3 (or R2) with that bucket, configured by
 *   - `AWS_REGION`: the region; `auto` selects the R2 profile;
 *   - `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`: static credentials
 *     (without the first two, the AWS SDK's own provider chain);
 *   - `S3_ENDPOINT`: R2 (`https://<account>.r2.cloudflarestorage.com`, which selects the R2
 *     profile) or another S3-compatible server (MinIO, moto), which gets path-style URLs;
 *   - `S3_FORCE_PATH_STYLE`: `true` or `false` overrides that path-style choice.
 * - otherwise, the local disk:
 *   - `STORAGE_ROOT`: the folder (default `./data`);
 *   - `STORAGE_SIGNING_SECRET`: the signed-URL secret, at least 32 bytes (default: random per
 *     process, so URLs die with it);
 *   - `STORAGE_PUBLIC_URL`: where the signed-URL handler is mounted (default
 *     `http://localhost:3000/storage/signed`).
 *
 * `overrides` are merged over what the environment gives; the app's namespaces go there
 * (`{ namespaces: ['pdfs', 'uploads'] }`): without them any single segment is a namespace.
 */
export function createStorageFromEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: EnvStorageOverrides = {},
): Storage {
  const { signing: signingOverrides, ...rest } = overrides;
  const bucket = env.AWS_S3_BUCKET?.trim();
  if (bucket) return createStorage({ ...rest, s3: s3FromEnv(bucket, env) });
  const signing: UrlSigningOptions = { ...signingOverrides };
  if (env.STORAGE_SIGNING_SECRET) signing.secret = env.STORAGE_SIGNING_SECRET;
  if (env.STORAGE_PUBLIC_URL) signing.baseUrl = env.STORAGE_PUBLIC_URL;
  return createStorage({ ...rest, local: { root: env.STORAGE_ROOT || './data', signing } });
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).hostname;
  } catch (cause) {
    throw invalidOption(
      'S3_ENDPOINT must be an absolute URL such as https://<account>.r2.cloudflarestorage.com',
      cause,
    );
  }
}

function s3FromEnv(bucket: string, env: Record<string, string | undefined>): S3DriverOptions {
  const endpoint = env.S3_ENDPOINT?.trim() || undefined;
  const host = endpoint === undefined ? '' : hostOf(endpoint);
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
