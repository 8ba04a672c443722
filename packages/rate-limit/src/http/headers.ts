import type { RateLimitResult } from '../types.js';

/**
 * Which rate-limit headers to send: `'draft'` the IETF `RateLimit` / `RateLimit-Policy` fields
 * (draft-ietf-httpapi-ratelimit-headers), `'legacy'` the older `X-RateLimit-Limit`,
 * `X-RateLimit-Remaining` and `X-RateLimit-Reset` (epoch seconds), `'both'`, or `false` for none
 * (`Retry-After` is sent on every refusal regardless).
 */
export type HeaderStyle = 'draft' | 'legacy' | 'both' | false;

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * The response headers for `r`, as `[name, value]` pairs: `RateLimit-Policy: "read";q=120;w=60`
 * and `RateLimit: "read";r=119;t=42` in the draft style, and `Retry-After` (whole seconds, at
 * least 1) when the request was refused.
 */
export function rateLimitHeaders(
  r: RateLimitResult,
  style: HeaderStyle = 'draft',
  now: number = Date.now(),
): [string, string][] {
  const out: [string, string][] = [];
  if (style === 'draft' || style === 'both') {
    const name = `"${r.tier.replace(/[\\"]/g, '')}"`;
    out.push(['RateLimit-Policy', `${name};q=${r.limit};w=${seconds(r.windowMs)}`]);
    out.push(['RateLimit', `${name};r=${r.remaining};t=${seconds(r.resetMs)}`]);
  }
  if (style === 'legacy' || style === 'both') {
    out.push(['X-RateLimit-Limit', String(r.limit)]);
    out.push(['X-RateLimit-Remaining', String(r.remaining)]);
    out.push(['X-RateLimit-Reset', String(Math.ceil((now + r.resetMs) / 1000))]);
  }
  if (!r.allowed) out.push(['Retry-After', String(Math.max(1, seconds(r.retryAfterMs)))]);
  return out;
}
