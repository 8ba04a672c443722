/** How an error is told to telemetry: by its stable `code`, never by a message that may vary. */
import type * as OtelApi from '@opentelemetry/api';
import { scrubString } from './scrub.js';

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const NAME = /^[A-Za-z_$][\w$.]{0,63}$/;

/**
 * The `error.type` attribute of a failure: its `code` when it has one in upper snake case
 * (every @org error, Node's system errors), else its class name, else `_OTHER` (the semantic
 * conventions' fallback). Bounded: never a message.
 */
export function errorType(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && CODE.test(code)) return code;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && NAME.test(name) && name !== 'Error') return name;
  }
  return '_OTHER';
}

/** Marks `span` failed with `error.type` and an exception event whose message is scrubbed. */
export function recordError(span: OtelApi.Span, err: unknown): void {
  const type = errorType(err);
  const message =
    err instanceof Error
      ? scrubString(err.message)
      : typeof err === 'string'
        ? scrubString(err)
        : '';
  span.setAttribute('error.type', type);
  span.recordException({
    name: err instanceof Error ? err.name : type,
    message,
    code: type,
    ...(err instanceof Error && err.stack !== undefined ? { stack: scrubString(err.stack) } : {}),
  });
  // Status code 2 is ERROR (a literal: this module must not load the API to name it).
  span.setStatus({ code: 2, message: type });
}
