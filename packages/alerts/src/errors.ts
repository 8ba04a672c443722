import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every error @org/alerts creates. Capturing never throws: these come from
 * `createAlerts` options and from `flush`, which rejects with core's `TimeoutError`
 * (`ERR_TIMEOUT`) or `AbortedError` (`ERR_ABORTED`) only when asked to wait.
 */
export const AlertsErrorCode = {
  /** An option or argument is invalid; the message says which and what is accepted. */
  InvalidOption: 'ERR_ALERTS_INVALID_OPTION',
  /** Sentry's ingest could not be reached or refused an event. Carried by events only. */
  Transport: 'ERR_ALERTS_TRANSPORT',
} as const;

/** One of the {@link AlertsErrorCode} values. */
export type AlertsErrorCode = (typeof AlertsErrorCode)[keyof typeof AlertsErrorCode];

/** The one error class of @org/alerts. */
export class AlertsError extends OrgError<AlertsErrorCode> {
  override name = 'AlertsError';
}

/**
 * Any error created by @org/alerts, from any copy of the package; optionally of one `code`.
 * Holds across two copies of the package, where `instanceof AlertsError` would not.
 */
export const isAlertsError: (err: unknown, code?: AlertsErrorCode) => err is AlertsError =
  errorGuard<AlertsError>('ERR_ALERTS_');

/** An option failed validation. */
export function invalidOption(message: string): AlertsError {
  return new AlertsError(AlertsErrorCode.InvalidOption, message);
}

/** The package's option checks: each throws `ERR_ALERTS_INVALID_OPTION` naming the option. */
export const check = optionChecks(invalidOption);
