import { scrubString } from '@org/core';
import { invalidOption } from './errors.js';

/**
 * Reduces a message to a reason that is safe to show a load balancer, a log or a stranger:
 * URLs and connection strings keep only scheme and host (userinfo becomes `***@`, whatever the
 * password holds), `user:password@host` without a scheme loses its password, the values of
 * `password=…` / `"token": "…"`-style pairs (quoted or not) go, bearer
 * tokens, JWTs, AWS keys, long opaque strings and any of `secrets` are replaced by `***`, and the
 * result is cut to 200 characters. (Core's `scrubString` in `'reason'` mode.)
 */
export function redact(message: string, secrets: readonly string[] = []): string {
  if (typeof message !== 'string') throw invalidOption('redact(message): message must be a string');
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string')) {
    throw invalidOption('redact(message, secrets): secrets must be an array of strings');
  }
  return scrubString(message, { mode: 'reason', secrets });
}

/** The safe reason of anything a check threw or rejected with. */
export function safeReason(err: unknown, secrets: readonly string[] = []): string {
  if (err instanceof AggregateError && err.errors.length > 0 && !err.message) {
    return safeReason(err.errors[0], secrets);
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || (typeof code === 'string' ? code : err.name);
    const withCode = typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
    return redact(withCode, secrets) || err.name;
  }
  if (typeof err === 'string') return redact(err, secrets) || 'failed';
  return 'failed';
}
