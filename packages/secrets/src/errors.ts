import { errorGuard, OrgError, optionChecks } from '@org/core';

/**
 * Stable codes of every error this package throws, besides core's `ERR_ABORTED` (the caller's
 * `signal` aborted the call) and `ERR_TIMEOUT` (a provider call ran past its `timeout`).
 */
export const SecretsErrorCode = {
  /** An option that cannot work (a malformed duration, an unknown provider…). */
  InvalidOption: 'ERR_SECRETS_INVALID_OPTION',
  /** No secret (or environment variable) under that name, or it is empty in production. */
  NotFound: 'ERR_SECRETS_NOT_FOUND',
  /** The provider could not be reached and no value within `maxStale` is cached. */
  Unavailable: 'ERR_SECRETS_UNAVAILABLE',
  /** The provider refused access to the secret (IAM policy, KMS key). */
  AccessDenied: 'ERR_SECRETS_ACCESS_DENIED',
  /** `field` was asked of a secret that is not a JSON object, or the object has no such field. */
  InvalidFormat: 'ERR_SECRETS_INVALID_FORMAT',
  /** The provider does not offer this (a version of an environment variable…). */
  Unsupported: 'ERR_SECRETS_UNSUPPORTED',
  /** The secrets client was closed. */
  Closed: 'ERR_SECRETS_CLOSED',
} as const;

/** One of the {@link SecretsErrorCode} values. */
export type SecretsErrorCode = (typeof SecretsErrorCode)[keyof typeof SecretsErrorCode];

/**
 * The one error class of `@org/secrets`, on core's `OrgError`. `secretName` names the secret
 * when the error is about one (a name, never a value); `cause` carries the provider's error.
 * Match with `isSecretsError`, which holds across two copies of the package.
 */
export class SecretsError<Code extends SecretsErrorCode = SecretsErrorCode> extends OrgError<Code> {
  override name = 'SecretsError';
  /** The secret's name, when the error is about one. */
  readonly secretName: string | undefined;

  constructor(
    code: Code,
    message: string,
    options: { cause?: unknown; secretName?: string | undefined } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.secretName = options.secretName;
  }

  override toJSON(): { name: string; code: Code; message: string; secretName?: string } {
    const json: { name: string; code: Code; message: string; secretName?: string } = super.toJSON();
    if (this.secretName !== undefined) json.secretName = this.secretName;
    return json;
  }
}

/** Whether `err` is a `SecretsError` (from any copy of the package), optionally with `code`. */
export const isSecretsError = errorGuard<SecretsError>('ERR_SECRETS_');

/** An `ERR_SECRETS_INVALID_OPTION` error with `message`. */
export function invalidOption(message: string, cause?: unknown): SecretsError {
  return new SecretsError(SecretsErrorCode.InvalidOption, message, { cause });
}

/** The option checks of this package: they throw `ERR_SECRETS_INVALID_OPTION`. */
export const check = optionChecks((message) => invalidOption(message));

/** The error for a secret that does not exist (or is empty where that is not allowed). */
export function notFound(name: string, where: string, empty = false): SecretsError {
  const what = empty ? 'is empty' : 'was not found';
  return new SecretsError(
    SecretsErrorCode.NotFound,
    `Secret "${name}" ${what} (${where}); create it, or set it before starting the app.`,
    { secretName: name },
  );
}
