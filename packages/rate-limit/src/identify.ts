import { createHash } from 'node:crypto';
import { ipId } from './ip.js';

/** The parts of a request the identifiers read: node:http, Express and Fastify requests fit. */
export interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string | undefined } | undefined;
}

/** Which proxies to believe about the client's address. */
export interface TrustProxyOptions {
  /**
   * `false`: the socket's peer is the client, headers are ignored (any client can forge them).
   * A number: that many proxies of your own stand in front; the client is the address the
   * farthest of them saw (the n-th `X-Forwarded-For` entry from the right). `true`: the
   * leftmost entry, for a single trusted proxy that overwrites the header.
   * @default false
   */
  trustProxy?: boolean | number | undefined;
  /**
   * The header a trusted proxy writes the client into: `'x-forwarded-for'`, `'forwarded'`
   * (RFC 7239), or a single-address header such as `'cf-connecting-ip'`, `'x-real-ip'`,
   * `'fly-client-ip'`. @default 'x-forwarded-for'
   */
  proxyHeader?: string | undefined;
  /** Prefix length IPv6 clients are grouped by. @default 64 */
  ipv6Subnet?: number | undefined;
}

const MAX_HEADER = 2_048;

function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v.join(',') : v;
  return s === undefined || s.length > MAX_HEADER ? undefined : s;
}

function forwardedFor(value: string): string[] {
  const out: string[] = [];
  for (const element of value.split(',')) {
    const m = /(?:^|;)\s*for\s*=\s*("?)\[?([^\]";,]+)\]?(?::\d+)?\1/i.exec(element);
    if (m?.[2]) out.push(m[2]);
  }
  return out;
}

/**
 * The client's address, as `options` says to trust proxies; `undefined` when it cannot be told.
 * A header longer than 2 KiB is ignored rather than parsed.
 */
export function clientIp(req: RequestLike, options: TrustProxyOptions = {}): string | undefined {
  const peer = req.socket?.remoteAddress;
  const trust = options.trustProxy ?? false;
  if (trust === false || trust === 0) return peer;
  const name = (options.proxyHeader ?? 'x-forwarded-for').toLowerCase();
  const raw = header(req, name);
  if (raw === undefined) return peer;
  const hops =
    name === 'forwarded'
      ? forwardedFor(raw)
      : name === 'x-forwarded-for'
        ? raw.split(',').map((s) => s.trim())
        : [raw.trim()];
  const list = hops.filter((h) => h.length > 0);
  if (list.length === 0) return peer;
  if (trust === true) return list[0];
  return list[Math.max(0, list.length - trust)];
}

/** The limiter id of the request's client address (see {@link ipId}); `undefined` when unknown. */
export function ipKey(req: RequestLike, options: TrustProxyOptions = {}): string | undefined {
  return ipId(clientIp(req, options), options.ipv6Subnet ?? 64);
}

/** The limiter id of a signed-in user: `user:<id>`. */
export function userKey(userId: string | number): string {
  return `user:${userId}`;
}

/**
 * The limiter id of an API key: `key:` and a SHA-256 digest of it, so the key itself is never
 * stored in Redis nor shown in an event.
 */
export function apiKeyKey(apiKey: string): string {
  return `key:${createHash('sha256').update(apiKey).digest('base64url').slice(0, 32)}`;
}
