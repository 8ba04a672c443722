import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createEncryptStream,
  Fernet,
  generateKey,
  isFernetError,
} from '@org/backup-crypto';
import { type Feature, sendJson } from '../app.js';
import { devOptionalKey } from './secrets.js';

/** Largest single token `POST /backup-crypto/decrypt` buffers (it must see the MAC first). */
const MAX_TOKEN_BYTES = 64 * 1024 * 1024;

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/**
 * Backup encryption on the embedded defaults: Fernet with BACKUP_ENCRYPTION_KEY, or a key
 * generated at start-up for development (never printed). `POST /backup-crypto/encrypt` streams
 * the request body out as one Fernet token that Python's `cryptography` reads;
 * `POST /backup-crypto/decrypt` verifies a token before answering with the plaintext. Add
 * `?format=chunked` to either for the chunked format, whose chunks are verified and released
 * one by one (what a restore piped into psql uses). `GET /backup-crypto` runs a self-check.
 *
 *     curl --data-binary @dump.sql localhost:3000/backup-crypto/encrypt > dump.sql.fernet
 *     curl --data-binary @dump.sql.fernet localhost:3000/backup-crypto/decrypt > dump.sql
 */
export const backupCrypto: Feature = async (app) => {
  const envKey = await devOptionalKey('backup-encryption-key'); // BACKUP_ENCRYPTION_KEY
  const fromEnv = envKey !== undefined;
  const key = envKey ?? generateKey();
  const fernet = new Fernet(key); // throws ERR_FERNET_INVALID_KEY at start-up for a bad env key
  if (!fromEnv) {
    console.warn('backup-crypto: BACKUP_ENCRYPTION_KEY is not set; using a generated dev key');
  }
  const chunked = (url: URL) => url.searchParams.get('format') === 'chunked';
  const fail = (res: Parameters<typeof sendJson>[0], err: unknown) => {
    if (!isFernetError(err)) throw err;
    if (res.headersSent) res.destroy(err);
    else sendJson(res, 400, { error: err.message, code: err.code });
  };

  app.route('GET', '/backup-crypto', () => {
    const sample = `self-check ${new Date().toISOString()}`;
    const ok = fernet.decrypt(fernet.encrypt(sample), { ttl: '60s' }).toString() === sample;
    return {
      ok,
      key: fromEnv ? 'BACKUP_ENCRYPTION_KEY' : 'generated dev key',
      formats: ['token', 'chunked'],
    };
  });

  app.route('POST', '/backup-crypto/encrypt', async (req, res, url) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=us-ascii' });
    const stage = chunked(url) ? createChunkedEncryptStream(key) : createEncryptStream(key);
    await pipeline(req, stage, res);
  });

  app.route('POST', '/backup-crypto/decrypt', async (req, res, url) => {
    try {
      if (chunked(url)) {
        // Each chunk is verified before it is sent; a bad first chunk answers 400, a later one
        // cuts the response short.
        const stage = createChunkedDecryptStream(key);
        req.on('error', (err) => stage.destroy(err)).pipe(stage);
        res.setHeader('content-type', 'application/octet-stream');
        for await (const chunk of stage) {
          if (!res.write(chunk)) await once(res, 'drain');
        }
        res.end();
        return;
      }
      const body = await readBody(req, MAX_TOKEN_BYTES);
      if (body === undefined) {
        sendJson(res, 413, { error: 'token too large for this route; use ?format=chunked' });
        return;
      }
      const plain = fernet.decrypt(body.toString('latin1').trim());
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(plain);
    } catch (err) {
      fail(res, err);
    }
  });
};
