import type { IncomingMessage } from 'node:http';
import {
  createKeyRing,
  createRefreshTokens,
  createRemoteVerifier,
  createRotationSchedule,
  isKeyRotationError,
} from '@org/key-rotation';
import { type Feature, sendJson } from '../app.js';

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 16_384) break;
  }
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * JWTs from a ring of keys on the embedded defaults (RS256, in memory, 7-day grace period):
 * - `POST /auth/token` signs an access token (+ a refresh token) for `{ "sub": "…" }`;
 * - `GET /auth/me` verifies `Authorization: Bearer …`;
 * - `GET /auth/me/remote` verifies as a separate service would, from the JWKS over HTTP (a key
 *   made by `/auth/rotate` reaches it on the first unknown kid after a 1 s cooldown);
 * - `POST /auth/refresh` rotates a refresh token (a reused one revokes its family);
 * - `POST /auth/rotate` makes a new key sign while tokens of the old one keep verifying;
 * - `GET /auth/keys` lists the keys; `GET /.well-known/jwks.json` publishes the public ones.
 * In a real service, guard `/auth/token` and `/auth/rotate`, and share the ring through a file
 * or Redis store.
 */
export const keyRotation: Feature = async (app) => {
  const ring = await createKeyRing({ issuer: 'example-service', audience: 'example-api' });
  const refresh = createRefreshTokens();
  const schedule = createRotationSchedule(ring, { interval: '30d' }).start();

  const tokenPair = async (sub: string, refreshToken?: string) => ({
    access_token: await ring.sign({ scope: 'read' }, { subject: sub, expiresIn: '15m' }),
    token_type: 'Bearer',
    expires_in: 900,
    refresh_token: refreshToken ?? (await refresh.issue(sub)).token,
  });

  app.route('POST', '/auth/token', async (req) => {
    const body = await readJson(req);
    return tokenPair(typeof body.sub === 'string' ? body.sub : 'demo-user');
  });

  app.route('POST', '/auth/refresh', async (req, res) => {
    const body = await readJson(req);
    try {
      const next = await refresh.rotate(String(body.refresh_token ?? ''));
      return tokenPair(next.subject, next.token);
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      return sendJson(res, 401, { error: err.message, code: err.code });
    }
  });

  app.route('GET', '/auth/me', async (req, res) => {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    try {
      const { payload, key } = await ring.verify(token);
      return { sub: payload.sub, scope: payload.scope, exp: payload.exp, kid: key.kid };
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return sendJson(res, 401, { error: err.message, code: err.code });
    }
  });

  // What a service that only verifies does: the JWKS of this very process, fetched over HTTP.
  let remote: ReturnType<typeof createRemoteVerifier> | undefined;
  app.route('GET', '/auth/me/remote', async (req, res) => {
    const host = req.headers.host ?? `127.0.0.1:${process.env.PORT ?? 3000}`;
    remote ??= createRemoteVerifier(`http://${host}/.well-known/jwks.json`, { cooldown: '1s' });
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    try {
      const { payload, key } = await remote.verify(token, { audience: 'example-api' });
      return { sub: payload.sub, kid: key.kid, verifiedBy: 'remote JWKS', kids: remote.kids() };
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      return sendJson(res, 401, { error: err.message, code: err.code });
    }
  });

  app.route('POST', '/auth/rotate', async () => {
    const active = await ring.rotate();
    return { active: active.kid, keys: ring.keys() };
  });

  app.route('GET', '/auth/keys', () => ({ keys: ring.keys(), due: schedule.due() ?? null }));

  const jwks = ring.jwksHandler({ maxAge: '5m' });
  app.route('GET', '/.well-known/jwks.json', (req, res) => jwks(req, res));

  app.onClose(async () => {
    await schedule.close();
    await remote?.close();
    await ring.close();
  });
};
