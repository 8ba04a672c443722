import { abortable, type Clock, withTimeout } from '@org/core';
import type { ImportedKey } from './algorithms.js';
import { isKeyRotationError, KeyRotationError, KeyRotationErrorCode } from './errors.js';
import { parseJwks, type RemoteAlgorithm } from './jwks-keys.js';
import { observeJwksFetch } from './telemetry.js';

/** Keys of a JWKS by kid, each with the JSON it was imported from. */
export type JwksKeys = Map<string, { json: string; key: ImportedKey }>;

/** Why a JWKS was fetched. */
export type JwksFetchReason = 'initial' | 'expired' | 'unknown-kid' | 'manual';

/** The events of a JWKS cache (part of the remote verifier's). */
export type JwksCacheEvents = {
  /** A JWKS fetch succeeded. */
  'jwks-fetch': { keys: number; reason: JwksFetchReason };
  /** A JWKS fetch failed; `stale` says whether the last good JWKS is still in use. */
  'jwks-error': { error: KeyRotationError; stale: boolean };
};

/** The checked settings of a {@link JwksCache}; durations in milliseconds. */
export interface JwksCacheSettings {
  readonly url: URL;
  readonly cacheTtlMs: number;
  readonly cooldownMs: number;
  readonly staleTtlMs: number;
  readonly timeoutMs: number;
  readonly maxJwksBytes: number;
  readonly fetch: typeof globalThis.fetch;
  readonly headers: Record<string, string> | undefined;
  readonly algorithms: readonly RemoteAlgorithm[];
  readonly clock: Clock;
}

/** The JWKS of one URL: one fetch at a time, a TTL, a cooldown, and a bounded stale copy. */
export interface JwksCache {
  /** Keys usable now: fresh, or stale within staleTtl (refetched in the background). */
  usable(signal: AbortSignal | undefined): Promise<JwksKeys>;
  /** Fetches now, or joins the fetch under way; the caller's signal ends its wait only. */
  fetch(reason: JwksFetchReason, signal?: AbortSignal): Promise<void>;
  /** The keys of the last good fetch. */
  keys(): JwksKeys | undefined;
  /** Whether no fetch is under way and the last attempt is within the cooldown. */
  coolingDown(now: number): boolean;
  /** Aborts a request under way. */
  close(): void;
}

/** The body as UTF-8 text, or undefined (and the body cancelled) once it passes `max` bytes. */
async function readBounded(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const TOO_LARGE = 'is larger than maxJwksBytes; raise it if the document is legitimate';
const WAIT = 'Waiting for the JWKS';

/** Reports one of the cache's events (the verifier's emitter). */
export type JwksCacheEmit = <K extends keyof JwksCacheEvents>(
  event: K,
  payload: JwksCacheEvents[K],
) => void;

export function createJwksCache(settings: JwksCacheSettings, emit: JwksCacheEmit): JwksCache {
  const { url, clock, cooldownMs, staleTtlMs, maxJwksBytes } = settings;
  const where = `${url.origin}${url.pathname}`;
  const unavailable = (what: string, cause?: unknown) =>
    new KeyRotationError(
      KeyRotationErrorCode.JwksUnavailable,
      `the JWKS at ${where} ${what}`,
      cause === undefined ? {} : { cause },
    );
  // Aborted by close(): ends a request under way.
  const lifetime = new AbortController();
  let keys: JwksKeys | undefined;
  let cacheTtl = settings.cacheTtlMs;
  let fetchedAt = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let inflight: Promise<void> | undefined;

  /** The JWKS document, bounded by `timeout` (the cause of a failure is then core's TimeoutError). */
  function download(reason: JwksFetchReason): Promise<{ text: string; cacheControl: string }> {
    return observeJwksFetch(url, reason, (span) =>
      withTimeout(
        async (signal) => {
          const res = await settings.fetch(url, {
            headers: { accept: 'application/jwk-set+json, application/json', ...settings.headers },
            signal,
          });
          span?.setAttribute('http.response.status_code', res.status);
          const drop = () => res.body?.cancel().catch(() => undefined);
          if (!res.ok) {
            await drop();
            throw unavailable(`answered HTTP ${res.status}; check the endpoint`);
          }
          if (Number(res.headers.get('content-length') ?? 0) > maxJwksBytes) {
            await drop();
            throw unavailable(TOO_LARGE);
          }
          const text = await readBounded(res, maxJwksBytes);
          if (text === undefined) throw unavailable(TOO_LARGE);
          return { text, cacheControl: res.headers.get('cache-control') ?? '' };
        },
        { timeoutMs: settings.timeoutMs, signal: lifetime.signal, what: 'The JWKS request' },
      ),
    );
  }

  async function fetchOnce(reason: JwksFetchReason): Promise<void> {
    lastAttempt = clock.now();
    try {
      const { text, cacheControl } = await download(reason);
      keys = parseJwks(text, settings.algorithms, keys);
      fetchedAt = clock.now();
      const maxAge = /(?:^|,)\s*max-age=(\d+)/i.exec(cacheControl)?.[1];
      cacheTtl =
        maxAge === undefined
          ? settings.cacheTtlMs
          : Math.min(settings.cacheTtlMs, Number(maxAge) * 1000);
      emit('jwks-fetch', { keys: keys.size, reason });
    } catch (cause) {
      const stale = keys !== undefined && clock.now() - fetchedAt < cacheTtl + staleTtlMs;
      // A timeout or a failure of the endpoint is the JWKS being unavailable: the shared fetch
      // fails the same way for every caller waiting on it, whatever its cause.
      const error = isKeyRotationError(cause)
        ? cause
        : unavailable('could not be fetched; check the endpoint (see the cause)', cause);
      emit('jwks-error', { error, stale });
      throw error;
    }
  }

  function shared(reason: JwksFetchReason): Promise<void> {
    inflight ??= fetchOnce(reason).finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  const coolingDown = (now: number) => !inflight && now - lastAttempt < cooldownMs;

  return {
    async usable(signal) {
      const now = clock.now();
      const age = now - fetchedAt;
      if (keys && age < cacheTtl) return keys;
      if (keys && age < cacheTtl + staleTtlMs) {
        if (!coolingDown(now) && !inflight) shared('expired').catch(() => undefined);
        return keys;
      }
      if (coolingDown(now)) {
        throw new KeyRotationError(
          KeyRotationErrorCode.JwksUnavailable,
          'no usable JWKS: the last fetch failed and the cooldown has not passed',
        );
      }
      await abortable(shared(keys ? 'expired' : 'initial'), signal, WAIT);
      return keys as unknown as JwksKeys;
    },
    fetch: (reason, signal) => abortable(shared(reason), signal, WAIT),
    keys: () => keys,
    coolingDown,
    close: () => lifetime.abort(),
  };
}
