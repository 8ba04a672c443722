import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  createKeyRing,
  createKeyRingFromEnv,
  createRefreshTokens,
  createRemoteVerifier,
  createRotationSchedule,
  isKeyRotationError,
  type KeyRing,
  type KeyStore,
  type RefreshTokenStore,
} from '@org/key-rotation';
import { type App, type Feature, readJson, sendJson } from '../app.js';

const bearer = (req: IncomingMessage) =>
  /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';

/** Whether the request carries the admin token (`ADMIN_TOKEN`); no token set, no admin. */
function isAdmin(req: IncomingMessage, adminToken: string | undefined): boolean {
  if (!adminToken) return false;
  const given = Buffer.from(bearer(req));
  const wanted = Buffer.from(adminToken);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * JWTs from a ring of keys on the embedded defaults (RS256, in memory, 7-day grace period):
 * - `POST /auth/token` signs an access token (+ a refresh token) for `{ "sub": "…" }`;
 * - `GET /auth/me` verifies `Authorization: Bearer …`;
 * - `GET /auth/me/remote` verifies as a separate service would, from the JWKS over HTTP (a key
 *   made by `/auth/rotate` reaches it on the first unknown kid after a 1 s cooldown);
 * - `POST /auth/refresh` rotates a refresh token (a reused one revokes its family);
 * - `POST /auth/rotate` makes a new key sign while tokens of the old one keep verifying; it is
 *   for an admin only: `Authorization: Bearer $ADMIN_TOKEN` (without `ADMIN_TOKEN`, nobody);
 * - `GET /auth/keys` lists the keys; `GET /.well-known/jwks.json` publishes the public ones.
 * The refresh-token store is bounded (the memory store keeps at most `maxRecords`). The remote
 * verifier's JWKS URL comes from configuration (`JWKS_URL`), or is this server's own address:
 * never from the request, whose `Host` header a client chooses. In a real service, guard
 * `/auth/token`.
 *
 * With `REDIS_URL` set, every instance shares the ring and the refresh tokens through Redis
 * (`@org/key-rotation/redis`): a rotation on one is seen by all within milliseconds (pub/sub, and
 * a version poll every 5 s), and a refresh token used on one and replayed on another revokes its
 * family. The ring's private keys are sealed in Redis with `KEYRING_ENCRYPTION_KEY`, the same on
 * every instance; with `REDIS_URL` and without it the service does not start (src/env.ts).
 */
export const keyRotation: Feature = async (app) => {
  const adminToken = process.env.ADMIN_TOKEN || undefined;
  const configuredJwks = process.env.JWKS_URL || undefined;
  const { ring, refresh, close } = await sharedOrLocal(app);
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
    const token = bearer(req);
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
    // The socket's local end is this server's own address, which no client can choose.
    const { localAddress = '127.0.0.1', localPort } = req.socket;
    const self = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
    remote ??= createRemoteVerifier(
      configuredJwks ?? `http://${self}:${localPort}/.well-known/jwks.json`,
      { cooldown: '1s' },
    );
    const token = bearer(req);
    try {
      const { payload, key } = await remote.verify(token, { audience: 'example-api' });
      return { sub: payload.sub, kid: key.kid, verifiedBy: 'remote JWKS', kids: remote.kids() };
    } catch (err) {
      if (!isKeyRotationError(err)) throw err;
      return sendJson(res, 401, { error: err.message, code: err.code });
    }
  });

  app.route('POST', '/auth/rotate', async (req, res) => {
    if (!isAdmin(req, adminToken)) {
      return sendJson(res, 403, { error: 'rotation is for an admin: send Bearer $ADMIN_TOKEN' });
    }
    const active = await ring.rotate();
    return { active: active.kid, keys: ring.keys() };
  });

  // The status page shows each key's id and state; never its material.
  app.status.keys = () =>
    ring.keys().map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      createdAt: k.createdAt.toISOString(),
      activatedAt: k.activatedAt?.toISOString() ?? null,
      verifyUntil: k.verifyUntil?.toISOString() ?? null,
    }));

  app.route('GET', '/auth/keys', () => ({ keys: ring.keys(), due: schedule.due() ?? null }));

  const jwks = ring.jwksHandler({ maxAge: '5m' });
  app.route('GET', '/.well-known/jwks.json', (req, res) => jwks(req, res));

  app.onClose(async () => {
    await schedule.close();
    await remote?.close();
    await close();
  });
};

const ISSUER = { issuer: 'example-service', audience: 'example-api' };

/**
 * The ring and the refresh tokens: in memory (each instance its own), or in Redis for every
 * instance of `REDIS_PREFIX`. `close()` closes the ring, then the stores (the ring never closes
 * its store).
 */
async function sharedOrLocal(app: App) {
  const { redisUrl, prefix } = app.shared;
  if (!redisUrl) {
    const ring = await createKeyRing(ISSUER);
    return { ring, refresh: createRefreshTokens(), close: () => ring.close() };
  }
  // Loaded only here, so the embedded default never loads ioredis.
  const { createRedisKeyStore, createRedisRefreshTokenStore } = await import(
    '@org/key-rotation/redis'
  );
  const keyStore: KeyStore = createRedisKeyStore({ redis: redisUrl, prefix: `${prefix}:keyring:` });
  const tokenStore: RefreshTokenStore = createRedisRefreshTokenStore({
    redis: redisUrl,
    prefix: `${prefix}:refresh:`,
  });
  const closeStores = async () => {
    await keyStore.close?.();
    await tokenStore.close?.();
  };
  let ring: KeyRing;
  try {
    // Reads KEYRING_ENCRYPTION_KEY (a bad one is ERR_KEY_ROTATION_INVALID_OPTION).
    ring = await createKeyRingFromEnv({ ...ISSUER, store: keyStore });
  } catch (err) {
    await closeStores();
    throw err;
  }
  return {
    ring,
    refresh: createRefreshTokens({ store: tokenStore }),
    async close() {
      await ring.close();
      await closeStores();
    },
  };
}
