import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duration } from '@org/core';
import type { PublicJwk } from './algorithms.js';
import { wireSeconds } from './time-options.js';

/** Options of `jwksHandler()` and `jwksResponse()`: core `Duration`s, sent in whole seconds. */
export interface JwksHandlerOptions {
  /**
   * How long verifiers may cache the JWKS (`Cache-Control: max-age`): 0 or at least `'1s'`.
   * Stage keys at least this long before you rotate, so that every cache knows a key before it
   * signs.
   * @default '5m'
   */
  maxAge?: Duration | undefined;
  /**
   * How long a cache may keep serving the JWKS when this endpoint fails (`stale-if-error`).
   * @default '1d'
   */
  staleIfError?: Duration | undefined;
}

/** A node:http handler (also fits Express and Connect). */
export type JwksHandler = (req: IncomingMessage, res: ServerResponse) => void;

type Jwks = { keys: PublicJwk[] };

/** The 405 of every method but GET and HEAD: `Allow`, and a body that says what to send. */
const NOT_ALLOWED = {
  body: '{"error":"method not allowed: the JWKS answers GET and HEAD"}\n',
  headers: {
    allow: 'GET, HEAD',
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  },
} as const;

/** The `Cache-Control` value of `options`; throws ERR_KEY_ROTATION_INVALID_OPTION. */
function cacheControl(options: JwksHandlerOptions): string {
  const maxAge = wireSeconds(options.maxAge, 'maxAge', '5m');
  const staleIfError = wireSeconds(options.staleIfError, 'staleIfError', '1d');
  return `public, max-age=${maxAge}, stale-if-error=${staleIfError}`;
}

function describe(jwks: Jwks, cacheControl: string) {
  const body = JSON.stringify(jwks);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = {
    'content-type': 'application/jwk-set+json',
    'cache-control': cacheControl,
    etag,
  };
  // RFC 9110 §13.1.2: If-None-Match uses the weak comparison (a proxy that compresses turns
  // `"x"` into `W/"x"`), and `*` matches any current representation.
  const matches = (ifNoneMatch: string | readonly string[] | null | undefined) => {
    if (ifNoneMatch === null || ifNoneMatch === undefined) return false;
    const value = typeof ifNoneMatch === 'string' ? ifNoneMatch : ifNoneMatch.join(',');
    return value.split(',').some((raw) => {
      const t = raw.trim();
      return t === '*' || (t.startsWith('W/') ? t.slice(2) : t) === etag;
    });
  };
  return { body, headers, matches };
}

/**
 * A web `Response` with the JWKS, `Cache-Control`, `ETag`, and `304` for a request whose
 * `If-None-Match` matches by weak comparison (`W/"…"` too) or is `*`.
 */
export function jwksResponse(
  jwks: Jwks,
  request?: Request,
  options: JwksHandlerOptions = {},
): Response {
  if (request && request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(NOT_ALLOWED.body, { status: 405, headers: NOT_ALLOWED.headers });
  }
  const { body, headers, matches } = describe(jwks, cacheControl(options));
  if (matches(request?.headers.get('if-none-match'))) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request?.method === 'HEAD' ? null : body, { status: 200, headers });
}

/**
 * Serves a JWKS with `Cache-Control`, a strong `ETag` and `304 Not Modified` for an
 * `If-None-Match` that matches it by weak comparison, or is `*`.
 */
export function createJwksHandler(jwks: () => Jwks, options: JwksHandlerOptions = {}): JwksHandler {
  const control = cacheControl(options);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, {
          ...NOT_ALLOWED.headers,
          'content-length': Buffer.byteLength(NOT_ALLOWED.body),
        })
        .end(NOT_ALLOWED.body);
      return;
    }
    const { body, headers, matches } = describe(jwks(), control);
    if (matches(req.headers['if-none-match'])) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
