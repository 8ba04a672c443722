/**
 * Which version of a secret to read: a staging label (`AWSCURRENT`, `AWSPREVIOUS`, or one of
 * the app's own) or a version id. Omitted, the current version.
 */
export type SecretVersion = 'AWSCURRENT' | 'AWSPREVIOUS' | (string & {}) | { versionId: string };

/** What a provider read for one secret. */
export interface FetchedSecret {
  /** The value: text (`SecretString`) or bytes (`SecretBinary`). */
  value: string | Uint8Array;
  /** The provider's version id, when it has one: a change means the secret was rotated. */
  versionId?: string | undefined;
}

/** What a provider is asked for one secret. */
export interface ProviderRequest {
  /** The full name at the provider (the `prefix` already applied). */
  name: string;
  /** The name as the app wrote it, without the `prefix` (what the env mapping rule starts from). */
  bareName: string;
  /** The version; omitted for the current one. */
  version?: SecretVersion | undefined;
  /** Aborts at the call's timeout, on the caller's abort, or on `close()`: stop when it fires. */
  signal: AbortSignal;
}

/**
 * The one extension point: where secrets come from. `get` is all a provider needs; the others
 * are optional and declared here so that nothing is assumed of them.
 */
export interface SecretsProvider {
  /** A short name for messages and events: `'env'`, `'aws'`. */
  readonly kind: string;
  /**
   * Reads one secret. Resolves `undefined` when there is no such secret (or version); throws
   * (a `SecretsError` with `ERR_SECRETS_ACCESS_DENIED`, or anything else, which is reported as
   * `ERR_SECRETS_UNAVAILABLE`) when it cannot tell.
   */
  get(request: ProviderRequest): Promise<FetchedSecret | undefined>;
  /**
   * Reads several current values at once (Secrets Manager's `BatchGetSecretValue`), for
   * start-up, keyed by full name. A name left out of the result (missing, or an error) is then
   * read with `get`, which tells which; without `getMany`, `preload` calls `get` for each name.
   */
  getMany?(
    requests: readonly { name: string; bareName: string }[],
    signal: AbortSignal,
  ): Promise<Map<string, FetchedSecret>>;
  /**
   * How the provider names a secret to a person checking the set-up: `env var GEMINI_API_KEY`,
   * `Secrets Manager cineview-gemini-api`. @default the name
   */
  describe?(request: { name: string; bareName: string }): string;
  /** Releases what the provider created (an SDK client it made); never a client it was given. */
  close?(): Promise<void> | void;
}

/** The key of a version in the cache: `''` for the current one. */
export function versionKey(version: SecretVersion | undefined): string {
  if (version === undefined || version === 'AWSCURRENT') return '';
  return typeof version === 'string' ? `stage:${version}` : `id:${version.versionId}`;
}
