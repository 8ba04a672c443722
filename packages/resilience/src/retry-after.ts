/**
 * Reads a server's requested delay from an error, in milliseconds. Understands the shapes the
 * common clients throw: `retryAfter` / `retryAfterMs` fields, a `headers` object or `Headers`
 * (fetch, undici, OpenAI, Anthropic, Stripe SDKs), `response.headers`, and the AWS SDK's
 * `$response.headers`. The header may hold seconds or an HTTP date (RFC 9110 §10.2.3).
 */
export function retryAfterMs(err: unknown, now: number = Date.now()): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Record<string, unknown>;
  if (typeof e.retryAfterMs === 'number' && e.retryAfterMs >= 0) return e.retryAfterMs;
  if (typeof e.retryAfter === 'number' && e.retryAfter >= 0) return e.retryAfter * 1000;
  const header =
    headerOf(e.headers) ??
    headerOf((e.response as Record<string, unknown> | undefined)?.headers) ??
    headerOf((e.$response as Record<string, unknown> | undefined)?.headers) ??
    (typeof e.retryAfter === 'string' ? e.retryAfter : undefined);
  return header === undefined ? undefined : parseRetryAfter(header, now);
}

function headerOf(headers: unknown): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (name: string) => unknown } & Record<string, unknown>;
  const v =
    typeof h.get === 'function' ? h.get('retry-after') : (h['retry-after'] ?? h['Retry-After']);
  if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Parses a Retry-After value (delta-seconds or HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string, now: number = Date.now()): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
