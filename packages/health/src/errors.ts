/** Stable codes of every error this package throws. */
export type HealthErrorCode =
  | 'ERR_HEALTH_INVALID_OPTIONS'
  | 'ERR_HEALTH_CHECK_TIMEOUT'
  | 'ERR_HEALTH_DEADLINE';

/** The one base error of @org/health; `code` is stable, `message` says what to do. */
export class HealthError extends Error {
  readonly code: HealthErrorCode;

  constructor(code: HealthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HealthError';
    this.code = code;
  }
}

/** True for a HealthError, also one thrown by another copy of this package. */
export function isHealthError(err: unknown): err is HealthError {
  return (
    err instanceof Error &&
    err.name === 'HealthError' &&
    typeof (err as { code?: unknown }).code === 'string' &&
    (err as unknown as { code: string }).code.startsWith('ERR_HEALTH_')
  );
}
