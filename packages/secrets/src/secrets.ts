import { type Events, isOrgError } from '@org/core';
import { isAuthError as defaultIsAuthError } from './auth-error.js';
import { check, notFound, SecretsError, SecretsErrorCode } from './errors.js';
import { SecretsEmitter, type SecretsEvents } from './events.js';
import { jsonField } from './fields.js';
import { type SecretsHealth, secretsHealth } from './health.js';
import { Loader, type Target } from './loader.js';
import { resolveOptions, type SecretsOptions } from './options.js';
import type { FetchedSecret, SecretVersion } from './provider.js';
import { SecretValue } from './secret-value.js';
import { observeFetch } from './telemetry.js';

/** Options of one read. */
export interface GetSecretOptions {
  /** For a JSON secret: the value of this field (`'password'` of an RDS secret). */
  field?: string | undefined;
  /** Which version: `'AWSCURRENT'` (default), `'AWSPREVIOUS'`, another stage, or `{ versionId }`. */
  version?: SecretVersion | undefined;
  /**
   * Outside production, resolve `undefined` for a missing secret instead of rejecting. In
   * production a missing secret always rejects. @default false
   */
  optional?: boolean | undefined;
  /** Aborts the wait (the shared provider call goes on for the other callers). */
  signal?: AbortSignal | undefined;
}

/** Options of {@link Secrets.withSecret}. */
export interface WithSecretOptions extends Omit<GetSecretOptions, 'optional'> {
  /** Whether an error of `fn` means the secret was refused. @default the client's `isAuthError` */
  isAuthError?: ((err: unknown) => boolean) | undefined;
}

/** What `preload` read. */
export interface PreloadResult {
  /** Names now in the cache. */
  loaded: string[];
  /** Names that do not exist (in production `preload` rejects instead, naming them). */
  missing: string[];
}

/** A secrets client: cached reads over one provider. Its events are `SecretsEvents`. */
export interface Secrets extends Events<SecretsEvents> {
  /** The value of secret `name` (the prefix applied), from the cache when it is fresh. */
  get(
    name: string,
    options: GetSecretOptions & { optional: true },
  ): Promise<SecretValue | undefined>;
  get(name: string, options?: GetSecretOptions): Promise<SecretValue>;
  /**
   * Reads the current values of `names` in as few provider calls as it can
   * (`BatchGetSecretValue`, 20 names a call), for start-up; when the batch call fails (a policy
   * without `secretsmanager:BatchGetSecretValue`), one read per name.
   */
  preload(names: readonly string[], options?: { signal?: AbortSignal }): Promise<PreloadResult>;
  /** Reads `name` from the provider now, bypassing the cache, and caches the result. */
  refresh(name: string, options?: Omit<GetSecretOptions, 'optional'>): Promise<SecretValue>;
  /**
   * Runs `fn` with the value; when `fn` fails with an auth error (the secret was rotated under
   * it), reads the secret again once, bypassing the cache, and runs `fn` once more with it.
   * Other errors of `fn` pass through untouched.
   */
  withSecret<T>(
    name: string,
    fn: (value: SecretValue) => Promise<T> | T,
    options?: WithSecretOptions,
  ): Promise<T>;
  /** Where `name` is read, for a person: `env GEMINI_API_KEY`, `Secrets Manager cineview-db`. */
  describe(name: string): string;
  /** Forgets the cached values of `name` (all versions), or of every secret. */
  invalidate(name?: string): void;
  /**
   * A health check usable as an `@org/health` check (`checks: { secrets: secrets.healthCheck }`):
   * `ok`; `warn` (degraded) while a provider failure is bridged by cached values; `fail` when a
   * secret that failed has no value left to serve. Reads only the cache: no provider call.
   */
  healthCheck(signal?: AbortSignal): Promise<SecretsHealth>;
  /** Aborts provider calls in flight, clears the cache and closes what the provider created. */
  close(): Promise<void>;
}

/**
 * Creates a secrets client over `options.provider`: values cached for `ttl` (5 minutes), one
 * provider call per name at a time, refreshed in the background before expiry, and the last good
 * value served for up to `maxStale` (1 hour) past expiry while the provider fails.
 *
 * @example
 * const secrets = createSecrets({ provider: envProvider({ env: process.env }) });
 * const key = await secrets.get('cineview-gemini-api'); // GEMINI_API_KEY
 */
export function createSecrets(options: SecretsOptions): Secrets {
  const o = resolveOptions(options);
  const events = new SecretsEmitter();
  const loader = new Loader(o, events);
  let closed: Promise<void> | undefined;

  const select = (t: Target, value: SecretValue, field: string | undefined): SecretValue => {
    if (field === undefined) return value;
    const entry = loader.cache.touch(t.key);
    let fields = entry?.value === value ? entry.fields : undefined;
    let got = fields?.get(field);
    if (got === undefined) {
      got = jsonField(value, field, t.name);
      if (entry?.value === value) {
        fields = entry.fields ??= new Map();
        fields.set(field, got);
      }
    }
    if (got instanceof Error) throw got;
    return got;
  };

  const fieldOf = (opts: { field?: unknown } | undefined): string | undefined =>
    opts?.field === undefined ? undefined : check.string(opts.field, 'field');

  const get = async (name: string, opts?: GetSecretOptions): Promise<SecretValue | undefined> => {
    const t = loader.target(name, opts?.version);
    const field = fieldOf(opts);
    try {
      const got = loader.read(t, opts?.signal);
      return select(t, got instanceof SecretValue ? got : await got, field);
    } catch (err) {
      if (opts?.optional === true && !o.production && isOrgError(err, SecretsErrorCode.NotFound)) {
        return undefined;
      }
      throw err;
    }
  };

  const refresh = async (name: string, opts?: GetSecretOptions): Promise<SecretValue> => {
    const t = loader.target(name, opts?.version);
    return select(t, await loader.reload(t, opts?.signal), fieldOf(opts));
  };

  const secrets: Secrets = {
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
    get: get as Secrets['get'],
    refresh,
    async preload(names, opts = {}) {
      const targets = [...new Set(names)].map((n) => loader.target(n));
      const batch = o.provider.getMany?.bind(o.provider);
      // A batch that fails (no secretsmanager:BatchGetSecretValue in the app's policy, an
      // outage) falls back to one read per name, which reports each name's own error.
      const found = batch
        ? await loader
            .bounded('Reading secrets in a batch', opts.signal, (signal) =>
              observeFetch(o.provider.kind, 'batch', false, () =>
                batch(
                  targets.map((t) => ({ name: t.name, bareName: t.bareName })),
                  signal,
                ),
              ),
            )
            .catch((err: unknown) => {
              if (isOrgError(err, 'ERR_ABORTED', SecretsErrorCode.Closed)) throw err;
              return new Map<string, FetchedSecret>();
            })
        : new Map<string, FetchedSecret>();
      const loaded: string[] = [];
      const missing: string[] = [];
      await Promise.all(
        targets.map(async (t) => {
          const got = found.get(t.name);
          if (got !== undefined && got.value.length > 0) {
            loader.store(t, new SecretValue(got.value, got.versionId));
            loaded.push(t.name);
            return;
          }
          try {
            await loader.reload(t, opts.signal);
            loaded.push(t.name);
          } catch (err) {
            if (!isOrgError(err, SecretsErrorCode.NotFound)) throw err;
            missing.push(t.name);
          }
        }),
      );
      if (o.production && missing.length > 0) {
        const err = notFound(missing.join('", "'), o.provider.kind);
        throw missing.length === 1
          ? err
          : new SecretsError(
              SecretsErrorCode.NotFound,
              `Secrets "${missing.join('", "')}" were not found (${o.provider.kind}); create them, or set them before starting the app.`,
            );
      }
      return { loaded, missing };
    },
    async withSecret(name, fn, opts = {}) {
      const isAuth =
        check.func<(err: unknown) => boolean>(opts.isAuthError, 'isAuthError') ??
        o.isAuthError ??
        defaultIsAuthError;
      const first = await refreshable(get, name, opts);
      try {
        return await fn(first);
      } catch (err) {
        if (!isAuth(err)) throw err;
        const second = await refresh(name, opts);
        return await fn(second);
      }
    },
    describe(name) {
      const t = loader.target(name);
      return o.provider.describe?.(t) ?? `${o.provider.kind} ${t.name}`;
    },
    invalidate(name) {
      const prefixed = name === undefined ? undefined : loader.target(name).name;
      for (const e of loader.cache.select(prefixed)) loader.cache.delete(e);
    },
    healthCheck: async (signal) => secretsHealth(loader.cache.values(), o, signal),
    close() {
      closed ??= (async () => {
        loader.close(
          new SecretsError(
            SecretsErrorCode.Closed,
            'The secrets client was closed; create a new one.',
          ),
        );
        events.clear();
        try {
          await o.provider.close?.();
        } catch {
          // close() releases and never throws.
        }
      })();
      return closed;
    },
  };
  return secrets;
}

async function refreshable(
  get: (name: string, opts?: GetSecretOptions) => Promise<SecretValue | undefined>,
  name: string,
  opts: GetSecretOptions,
): Promise<SecretValue> {
  return (await get(name, { ...opts, optional: false }))!;
}
