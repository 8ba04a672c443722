import type { HealthCheck } from '../types.js';

/** Options of `httpCheck`. */
export interface HttpCheckOptions {
  /**
   * The URL to fetch. Credentials in it (`https://user:pass@host`) are sent as Basic auth; only
   * scheme and host ever appear in a reason.
   */
  url: string | URL;
  /** @default 'GET' */
  method?: 'GET' | 'HEAD';
  /** Request headers (e.g. an Authorization header; never reported). */
  headers?: Record<string, string>;
  /** Which statuses pass. @default any 2xx or 3xx */
  expectStatus?: number | readonly number[] | ((status: number) => boolean);
  /** Timeout of the request, in ms. @default 800 (the createHealth default) */
  timeout?: number;
  /** @default true */
  critical?: boolean;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

function passes(status: number, expect: HttpCheckOptions['expectStatus']): boolean {
  if (expect === undefined) return status >= 200 && status < 400;
  if (typeof expect === 'number') return status === expect;
  if (typeof expect === 'function') return expect(status);
  return expect.includes(status);
}

/** Checks that an HTTP URL answers with an expected status, within the timeout. */
export function httpCheck(options: HttpCheckOptions): HealthCheck {
  const doFetch = options.fetch ?? fetch;
  const url = new URL(options.url);
  const headers: Record<string, string> = { ...options.headers };
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.authorization ??= `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  return {
    componentType: 'component',
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.critical === undefined ? {} : { critical: options.critical }),
    async check(signal) {
      const res = await doFetch(url, {
        method: options.method ?? 'GET',
        redirect: 'manual',
        signal,
        headers,
      });
      await res.body?.cancel();
      if (!passes(res.status, options.expectStatus)) {
        return { status: 'fail', reason: `HTTP ${res.status}` };
      }
      return undefined;
    },
  };
}
