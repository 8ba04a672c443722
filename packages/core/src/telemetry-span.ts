/**
 * Running a function in a span, and calling a recorder once it settles (for `withSpan` and
 * `observe` in telemetry.ts).
 */
import type * as OtelApi from '@opentelemetry/api';
import type { SpanOptions, TelemetryAttributes, TelemetrySpan } from './telemetry.js';
import { otelApi } from './telemetry-api.js';
import { recordError } from './telemetry-error.js';

/** Runs `fn` in a child span of the active one, made active while `fn` runs. */
export function inSpan<T>(
  tracer: OtelApi.Tracer,
  name: string,
  attributes: TelemetryAttributes,
  options: SpanOptions | undefined,
  fn: (span: TelemetrySpan | undefined) => T,
  done: ((error: unknown) => void) | undefined,
): T {
  const api = otelApi() as typeof OtelApi;
  const parent = api.context.active();
  const span = tracer.startSpan(
    name,
    {
      kind: options?.kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL,
      attributes,
    },
    parent,
  );
  let result: T;
  try {
    result = api.context.with(api.trace.setSpan(parent, span), fn, undefined, span);
  } catch (err) {
    finish(span, err, true, done);
    throw err;
  }
  return settle(result, done, span);
}

/** Calls `done` (and ends `span`) when `result` settles, or now when it is no promise. */
export function settle<T>(
  result: T,
  done: ((error: unknown) => void) | undefined,
  span: OtelApi.Span | undefined,
): T {
  if (isPromise(result)) {
    // The caller awaits the returned promise, so its rejection is handled there; the branch
    // made here only observes it.
    return result.then(
      (value) => {
        finish(span, undefined, false, done);
        return value;
      },
      (err: unknown) => {
        finish(span, err, true, done);
        throw err;
      },
    ) as T;
  }
  finish(span, undefined, false, done);
  return result;
}

function finish(
  span: OtelApi.Span | undefined,
  error: unknown,
  failed: boolean,
  done: ((error: unknown) => void) | undefined,
): void {
  done?.(failed ? (error ?? new Error('rejected with undefined')) : undefined);
  if (span === undefined) return;
  if (failed) recordError(span, error);
  span.end();
}

function isPromise(value: unknown): value is Promise<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
