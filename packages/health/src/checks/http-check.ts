import type { Duration } from '@org/core';
import { check, invalidOption } from '../errors.js';
import type { HealthCheck } from '../types.js';

/** Options of `httpCheck`. */
export interface HttpCheckOptions {
  /**
   * The URL to fetch. Credentials in it (`https://user:pass@host`) are sent as Basic auth; only
   * scheme and host ever appear in a reason.
   */
  url: string | URL;
  /** @default 'GET' */
  method?: 'GET' | 'HEAD' | undefined;
  /** Request headers (e.g. an Authorization header; never reported). */
  headers?: Record<string, string> | undefined;
  /** Which statuses pass. @default any 2xx or 3xx */
  expectStatus?: number | readonly number[] | ((status: number) => boolean) | undefined;
  /** Timeout of the request (the check's signal aborts it). @default 800 (ms; createHealth's `timeout`) */
  timeout?: Duration | undefined;
  /** @default true */
  critical?: boolean | undefined;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch | undefined;
}

function passes(status: number, expect: HttpCheckOptions['expectStatus']): boolean {
  if (expect === undefined) return status >= 200 && status < 400;
  if (typeof expect === 'number') return status === expect;
  if (typeof expect === 'function') return expect(status);
  return expect.includes(status);
}

/** Checks that an HTTP URL answers with an expected status, within the timeout. */
export function httpCheck(options: HttpCheckOptions): HealthCheck {
  const o = check.object(options, 'options');
  const doFetch = check.func<typeof fetch>(o.fetch, 'fetch') ?? fetch;
  const method = check.oneOf(o.method, 'method', ['GET', 'HEAD'], 'GET');
  const timeout = check.duration(o.timeout, 'timeout', undefined, { min: 1 });
  const critical = check.boolean(o.critical, 'critical');
  const headers: Record<string, string> = { ...o.headers };
  let url: URL;
  try {
    url = new URL(o.url);
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      headers.authorization ??= `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      url.username = '';
      url.password = '';
    }
  } catch {
    // The message leaves the value out: a URL may carry credentials.
    throw invalidOption(
      '`url` must be an absolute URL such as https://api.example.com/health, with any credentials percent-encoded',
    );
  }
  return {
    componentType: 'component',
    ...(timeout === undefined ? {} : { timeout }),
    ...(critical === undefined ? {} : { critical }),
    async check(signal) {
      const res = await doFetch(url, {
        method,
        redirect: 'manual',
        signal,
        headers,
      });
      await res.body?.cancel();
      if (!passes(res.status, o.expectStatus)) {
        return { status: 'fail', reason: `HTTP ${res.status}` };
      }
      return undefined;
    },
  };
}
