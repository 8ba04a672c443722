import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { withTimeout } from '@org/core';
import type {
  BaseTransportOptions,
  Transport,
  TransportMakeRequestResponse,
  TransportRequest,
} from '@sentry/core';
import { createTransport, disabledUntil, updateRateLimits } from '@sentry/core';

/** How the last request ended, for the sender to decide: next, retry later, or give up. */
export type SendOutcome =
  | { kind: 'ok' }
  | { kind: 'retry'; afterMs: number; statusCode?: number; error?: unknown }
  | { kind: 'rejected'; statusCode: number };

/** Longest request body accepted back from the ingest, in bytes (the answer is ignored). */
const MAX_ANSWER = 64 * 1024;

/** `Retry-After` in ms: seconds or an HTTP date; `fallbackMs` when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number, fallbackMs: number): number {
  if (header === undefined) return fallbackMs;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : fallbackMs;
}

/**
 * A Sentry transport (`createTransport` of @sentry/core) over node:http/https: each request is
 * bounded by `timeoutMs` (its socket is destroyed at the deadline), and its outcome is reported
 * to `report` so that the sender can keep an event through an outage or a 429. `closed` aborts
 * the requests in flight (the instance was closed).
 */
export function makeHttpTransport(
  options: BaseTransportOptions,
  timeoutMs: number,
  now: () => number,
  report: (outcome: SendOutcome) => void,
  closed?: AbortSignal,
): Transport {
  const url = new URL(options.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const send = (req: TransportRequest): Promise<TransportMakeRequestResponse> =>
    withTimeout(
      (signal) =>
        new Promise<TransportMakeRequestResponse>((resolve, reject) => {
          const r = request(
            url,
            {
              method: 'POST',
              signal,
              agent: false,
              headers: { 'content-type': 'application/x-sentry-envelope' },
            },
            (res: IncomingMessage) => {
              let size = 0;
              res.on('data', (c: Buffer) => {
                size += c.length;
                if (size > MAX_ANSWER) res.destroy();
              });
              res.on('error', () => {});
              res.on('end', () => {});
              const status = res.statusCode ?? 0;
              const retryAfter = res.headers['retry-after'];
              const limits = res.headers['x-sentry-rate-limits'];
              const headers = {
                'retry-after': typeof retryAfter === 'string' ? retryAfter : null,
                'x-sentry-rate-limits': typeof limits === 'string' ? limits : null,
              };
              if (status >= 200 && status < 300) report({ kind: 'ok' });
              else if (status === 429) {
                // As the transport reads it (X-Sentry-Rate-Limits first, then Retry-After), so that
                // the retry comes when the transport itself lets events through again.
                const at = now();
                const until = disabledUntil(
                  updateRateLimits({}, { statusCode: status, headers }, at),
                  'error',
                );
                const ms =
                  until > at
                    ? until - at
                    : retryAfterMs(headers['retry-after'] ?? undefined, at, 60_000);
                report({ kind: 'retry', afterMs: ms, statusCode: status });
              } else if (status >= 500 || status === 408) {
                report({ kind: 'retry', afterMs: 0, statusCode: status });
              } else report({ kind: 'rejected', statusCode: status });
              resolve({ statusCode: status, headers });
              res.resume();
            },
          );
          r.on('error', (error) => {
            report({ kind: 'retry', afterMs: 0, error });
            reject(error);
          });
          r.end(req.body);
        }),
      { timeoutMs, signal: closed, what: 'Sending an alert to Sentry' },
    ).catch((error: unknown) => {
      report({ kind: 'retry', afterMs: 0, error });
      throw error;
    });
  return createTransport(options, send);
}
