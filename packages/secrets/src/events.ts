import { Emitter } from '@org/core';

/**
 * What a secrets client emits, one payload object per event, each also published on the
 * `node:diagnostics_channel` named `org:secrets:<event>`. Payloads carry names, codes and
 * times, never a value.
 */
// A type, not an interface: core's `EventMap` needs the index signature a type alias has.
export type SecretsEvents = {
  /** A value was read from the provider (on a miss, in the background, or forced). */
  fetch: {
    name: string;
    /** `''` for the current version, else `stage:<label>` or `id:<versionId>`. */
    version: string;
    /** How long the provider call took, in milliseconds. */
    durationMs: number;
    /** Whether the read refreshed a cached value in the background. */
    background: boolean;
    /** Whether the version id differs from the one cached before (the secret was rotated). */
    changed: boolean;
  };
  /** A provider call failed. */
  error: {
    name: string;
    version: string;
    /** The error's code (`ERR_SECRETS_UNAVAILABLE`, `ERR_TIMEOUT`, `ERR_SECRETS_ACCESS_DENIED`…). */
    code: string;
    /** Failures in a row for this secret. */
    failures: number;
    /** Whether a last good value is still served. */
    stale: boolean;
    /** The wait before the next attempt, in milliseconds. */
    retryAfterMs: number;
  };
  /**
   * A value past its `ttl` was served because the provider failed (bounded by `maxStale`):
   * once per failed attempt, not once per read.
   */
  stale: {
    name: string;
    version: string;
    /** How long past its expiry the value is, in milliseconds. */
    overdueMs: number;
  };
  /** A secret that was failing was read again. */
  recovered: {
    name: string;
    version: string;
    /** How long it failed, in milliseconds. */
    downMs: number;
  };
  /** A value left the cache to keep it within `maxEntries`. */
  evict: { name: string; version: string };
};

/** The emitter of one secrets client. */
export class SecretsEmitter extends Emitter<SecretsEvents> {
  constructor() {
    super('secrets');
  }
}
