import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PublicJwk } from './algorithms.js';

/** Options of `jwksHandler()`. */
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

/** Serves a JWKS with `Cache-Control`, a strong `ETag` and `304 Not Modified`. */
export function createJwksHandler(
  jwks: () => { keys: PublicJwk[] },
  options: JwksHandlerOptions = {},
): JwksHandler {
  const maxAge = options.maxAge ?? 300;
  const staleIfError = options.staleIfError ?? 86400;
  const cacheControl = `public, max-age=${maxAge}, stale-if-error=${staleIfError}`;
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = JSON.stringify(jwks());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const headers = {
      'content-type': 'application/jwk-set+json',
      'cache-control': cacheControl,
      etag,
    };
    const match = req.headers['if-none-match'];
    if (match?.split(',').some((t) => t.trim() === etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
