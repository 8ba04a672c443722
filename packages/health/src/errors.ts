import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of the errors @org/health throws. A failing or timed-out check never throws: it
 * is a status in the report. Aborted calls reject with core's `AbortedError` (`ERR_ABORTED`);
 * a check cut at its timeout or at the report deadline sees core's `TimeoutError`
 * (`ERR_TIMEOUT`) as its signal's reason.
 */
export const HealthErrorCode = {
  /** `createHealth` or a check factory got an option it cannot use; the message names it. */
  InvalidOption: 'ERR_HEALTH_INVALID_OPTION',
  /**
   * A check needs an optional peer dependency that is not installed (`ioredis` for a `redisCheck`
   * given a URL, `@aws-sdk/client-s3` for `s3Check`); the check fails with it as its reason.
   */
  MissingPeer: 'ERR_HEALTH_MISSING_PEER',
} as const;

/** One of the {@link HealthErrorCode} values. */
export type HealthErrorCode = (typeof HealthErrorCode)[keyof typeof HealthErrorCode];

/** The one error class of @org/health; `code` is stable, `message` says what to do. */
export class HealthError extends OrgError<HealthErrorCode> {
  override name = 'HealthError';
}

/**
 * Whether `err` is a {@link HealthError}, optionally with `code`; it holds across two copies of
 * the package.
 */
export const isHealthError = errorGuard<HealthError>('ERR_HEALTH_');

/** Option checks that throw `ERR_HEALTH_INVALID_OPTION` naming the option. */
export const check = optionChecks(
  (message) => new HealthError(HealthErrorCode.InvalidOption, message),
);

/** A `HealthError` for a bad option that the generic checks cannot describe. */
export function invalidOption(message: string, cause?: unknown): HealthError {
  return new HealthError(
    HealthErrorCode.InvalidOption,
    message,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Throws `ERR_HEALTH_INVALID_OPTION` when `options` still uses a name from before the move onto
 * core's Durations: silently ignoring `cacheMs: 0` would turn caching on.
 */
export function refuseRenamed(options: object, renamed: Readonly<Record<string, string>>): void {
  for (const [old, now] of Object.entries(renamed)) {
    if (old in options) {
      throw invalidOption(
        `\`${old}\` was renamed \`${now}\`: pass \`${now}\` instead (durations are milliseconds as a number, or a string such as '5s')`,
      );
    }
  }
}

/** A `HealthError` for an optional peer dependency that is not installed. */
export function missingPeer(message: string, cause?: unknown): HealthError {
  return new HealthError(
    HealthErrorCode.MissingPeer,
    message,
    cause === undefined ? undefined : { cause },
  );
}
