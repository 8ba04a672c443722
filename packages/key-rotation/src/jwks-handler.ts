import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PublicJwk } from './algorithms.js';

/** Options of `jwksHandler()` and `jwksResponse()`. */
export interface JwksHandlerOptions {
  /**
   * Seconds verifiers may cache the JWKS (`Cache-Control: max-age`). Stage keys at least this
   * long before you rotate, so that every cache knows a key before it signs.
   * @default 300
   */
  maxAge?: number;
  /**
   * Seconds a cache may keep serving the JWKS when this endpoint fails (`stale-if-error`).
   * @default 86400
   */
  staleIfError?: number;
}

/** A node:http handler (also fits Express and Connect). */
export type JwksHandler = (req: IncomingMessage, res: ServerResponse) => void;

type Jwks = { keys: PublicJwk[] };

function describe(jwks: Jwks, options: JwksHandlerOptions) {
  const body = JSON.stringify(jwks);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const maxAge = options.maxAge ?? 300;
  const staleIfError = options.staleIfError ?? 86400;
  const headers = {
    'content-type': 'application/jwk-set+json',
    'cache-control': `public, max-age=${maxAge}, stale-if-error=${staleIfError}`,
    etag,
  };
  const matches = (ifNoneMatch: string | null | undefined) =>
    ifNoneMatch?.split(',').some((t) => t.trim() === etag) ?? false;
  return { body, headers, matches };
}

/** A web `Response` with the JWKS, `Cache-Control`, `ETag`, and `304` for a matching request. */
export function jwksResponse(
  jwks: Jwks,
  request?: Request,
  options: JwksHandlerOptions = {},
): Response {
  if (request && request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  const { body, headers, matches } = describe(jwks, options);
  if (matches(request?.headers.get('if-none-match'))) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request?.method === 'HEAD' ? null : body, { status: 200, headers });
}

/** Serves a JWKS with `Cache-Control`, a strong `ETag` and `304 Not Modified`. */
export function createJwksHandler(jwks: () => Jwks, options: JwksHandlerOptions = {}): JwksHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const { body, headers, matches } = describe(jwks(), options);
    if (matches(req.headers['if-none-match'])) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
