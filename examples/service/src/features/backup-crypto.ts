import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createDecryptStream,
  createEncryptStream,
  Fernet,
  generateKey,
  isFernetError,
} from '@org/backup-crypto';
import { type Feature, sendJson } from '../app.js';
import {
  BodyTooLarge,
  checkDeclaredSize,
  limitedBody,
  refuseBody,
  semaphore,
  tooLarge,
} from '../limits.js';
import { devOptionalKey } from './secrets.js';

/** Largest single token `POST /backup-crypto/decrypt` takes (larger: use `?format=chunked`). */
export const MAX_TOKEN_BYTES = 64 * 1024 * 1024;

/**
 * Single-token decryptions at once (`DECRYPT_CONCURRENCY`, default 4); past it, 503 with
 * `Retry-After`. Each streams through a temporary file, so memory stays flat; this bounds the
 * disk (64 MiB each) and the CPU they take.
 */
const decryptConcurrency = () => {
  const n = Number(process.env.DECRYPT_CONCURRENCY || 4);
  return Number.isInteger(n) && n >= 1 ? n : 4;
};

/**
 * Backup encryption on the embedded defaults: Fernet with BACKUP_ENCRYPTION_KEY, or a key
 * generated at start-up for development (never printed). `POST /backup-crypto/encrypt` streams
 * the request body out as one Fernet token that Python's `cryptography` reads;
 * `POST /backup-crypto/decrypt` verifies a token before answering with the plaintext (a token of
 * at most 64 MiB, streamed through a temporary file; at most `DECRYPT_CONCURRENCY` at once, then
 * 503 with `Retry-After`). Add
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
      await decryptToken(req, res);
    } catch (err) {
      const big = tooLarge(err);
      if (big) {
        return refuseBody(res, 413, {
          error: `${big.message}; a larger backup takes ?format=chunked`,
        });
      }
      fail(res, err);
    }
  });

  // The token's MAC is at its end: its plaintext goes to a private temporary file, and only a
  // token that verified is sent on. Memory stays at the stream's buffers whatever the size.
  const slots = semaphore(decryptConcurrency());
  app.precheck('POST', '/backup-crypto/decrypt', (req, url) => {
    if (chunked(url)) return undefined;
    if (Number(req.headers['content-length'] ?? 0) > MAX_TOKEN_BYTES) {
      return {
        status: 413,
        body: {
          error: `${new BodyTooLarge(MAX_TOKEN_BYTES).message}; a larger backup takes ?format=chunked`,
        },
      };
    }
    if (slots.active >= slots.max) {
      return {
        status: 503,
        headers: { 'retry-after': '1' },
        body: { error: 'too many decryptions at once; retry shortly' },
      };
    }
    return undefined;
  });
  let scratch: Promise<string> | undefined;
  async function decryptToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkDeclaredSize(req, MAX_TOKEN_BYTES);
    const release = slots.tryAcquire();
    if (!release) {
      // The connection stays: Node discards the rest of the body, so the client reads the 503
      // rather than a reset mid-upload, and may retry on the same connection.
      res.setHeader('retry-after', '1');
      return sendJson(res, 503, { error: 'too many decryptions at once; retry shortly' });
    }
    let file: string | undefined;
    try {
      scratch ??= mkdtemp(join(tmpdir(), 'example-decrypt-'));
      file = join(await scratch, `${randomUUID()}.plain`);
      await pipeline(
        limitedBody(req, MAX_TOKEN_BYTES),
        createDecryptStream(key),
        createWriteStream(file, { mode: 0o600 }),
      );
      const { size } = await stat(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      // The slot is free once the last byte is handed to the response, before its end reaches
      // the client: a client that sends its next decryption on seeing the end finds it free.
      await pipeline(createReadStream(file).once('end', release), res);
    } finally {
      release();
      if (file) await rm(file, { force: true });
    }
  }
  app.onClose(async () => {
    if (scratch) await rm(await scratch, { recursive: true, force: true });
  });
};
