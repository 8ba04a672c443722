import { createStorageFromEnv, isStorageError, type Storage } from '@org/storage';
import type { Feature } from '../app.js';
import { sendJson } from '../app.js';
import { BodyTooLarge, limitedBody, refuseBody, tooLarge } from '../limits.js';

/**
 * Object storage with @org/storage: S3 or R2 when AWS_S3_BUCKET is set, else files under
 * ./data/{pdfs,uploads,logos}. Uploads are streamed to the driver, at most `MAX_UPLOAD_BYTES`
 * (default 32 MiB) each: past it, 413. Try it on the embedded defaults:
 *   curl -X PUT --data-binary @README.md -H 'content-type: text/markdown' \
 *     'http://127.0.0.1:3000/storage/uploads?key=docs/readme.md'
 *   curl 'http://127.0.0.1:3000/storage/uploads?key=docs/readme.md'
 *   curl 'http://127.0.0.1:3000/storage/list?namespace=uploads'
 *   curl "$(curl -s 'http://127.0.0.1:3000/storage/signed-url?key=docs/readme.md' | jq -r .url)"
 */
/** This app's storage namespaces: `data/pdfs`, `data/uploads`, `data/logos` on the local disk. */
const NAMESPACES = ['pdfs', 'uploads', 'logos'] as const;

/**
 * Largest object `PUT /storage/<namespace>` (and a signed PUT) takes, in bytes:
 * `MAX_UPLOAD_BYTES`, default 32 MiB. Past it the answer is 413 and the connection closes; a
 * `Content-Length` past it is refused before any of the body is read, a chunked body once the
 * limit is crossed, and nothing past the limit reaches the driver.
 */
export const maxUploadBytes = (): number => {
  const n = Number(process.env.MAX_UPLOAD_BYTES || 32 * 1024 * 1024);
  return Number.isSafeInteger(n) && n > 0 ? n : 32 * 1024 * 1024;
};

export const storage: Feature = (app) => {
  const port = process.env.PORT ?? '3000';
  const store = createStorageFromEnv(process.env, {
    namespaces: NAMESPACES,
    signing: { baseUrl: `http://127.0.0.1:${port}/storage/signed`, keyInQuery: true },
  });
  const ns = (url: URL): Storage => store.namespace(url.searchParams.get('namespace') ?? 'uploads');
  const keyOf = (url: URL): string => url.searchParams.get('key') ?? '';
  const maxUpload = maxUploadBytes();
  const guard = async <T>(res: Parameters<typeof sendJson>[0], fn: () => Promise<T>) => {
    try {
      return await fn();
    } catch (err) {
      const big = tooLarge(err);
      if (big) return refuseBody(res, 413, { error: big.message, maxBytes: big.maxBytes });
      if (isStorageError(err, 'ERR_STORAGE_NOT_FOUND'))
        return sendJson(res, 404, { error: err.message, code: err.code });
      if (
        isStorageError(err, 'ERR_STORAGE_INVALID_KEY') ||
        isStorageError(err, 'ERR_STORAGE_INVALID_METADATA')
      ) {
        return sendJson(res, 400, { error: err.message, code: err.code });
      }
      throw err;
    }
  };

  const declaredTooLarge = (req: { headers: { 'content-length'?: string | undefined } }) =>
    Number(req.headers['content-length'] ?? 0) > maxUpload
      ? { status: 413, body: { error: new BodyTooLarge(maxUpload).message, maxBytes: maxUpload } }
      : undefined;
  for (const name of NAMESPACES) {
    app.precheck('PUT', `/storage/${name}`, declaredTooLarge);
    app.route('PUT', `/storage/${name}`, (req, res, url) =>
      guard(res, () =>
        store.namespace(name).put(keyOf(url), limitedBody(req, maxUpload), {
          contentType: req.headers['content-type'] ?? 'application/octet-stream',
        }),
      ),
    );
    app.route('GET', `/storage/${name}`, (_req, res, url) =>
      guard(res, async () => {
        const s = store.namespace(name);
        const info = await s.head(keyOf(url));
        const body = await s.getStream(keyOf(url));
        res.writeHead(200, {
          'content-type': info.contentType ?? 'application/octet-stream',
          'content-length': info.size,
        });
        body.pipe(res);
        return undefined;
      }),
    );
    app.route('DELETE', `/storage/${name}`, (_req, res, url) =>
      guard(res, async () => {
        await store.namespace(name).delete(keyOf(url));
        return { deleted: keyOf(url) };
      }),
    );
  }
  app.route('GET', '/storage/list', (_req, res, url) =>
    guard(res, async () => {
      const items = [];
      for await (const o of ns(url).list(url.searchParams.get('prefix') ?? '')) {
        items.push({ key: o.key, size: o.size, lastModified: o.lastModified });
        if (items.length >= 100) break;
      }
      return { backend: store.backend, items };
    }),
  );
  app.route('GET', '/storage/signed-url', (_req, res, url) =>
    guard(res, async () => ({
      url: await ns(url).signedUrl(keyOf(url), {
        // This route takes seconds; the storage takes a Duration.
        expiresIn: `${Number(url.searchParams.get('expiresIn') ?? 300)}s`,
        method: url.searchParams.get('method') === 'PUT' ? 'PUT' : 'GET',
      }),
    })),
  );
  app.route('GET', '/storage/health', () => store.health());
  app.dependency('storage', store);
  if (store.backend === 'local') {
    // Serves the local driver's signed URLs (S3 and R2 serve their own).
    const handler = store.handler({ maxUploadBytes: maxUpload });
    app.route('GET', '/storage/signed', (req, res) => handler(req, res));
    app.route('HEAD', '/storage/signed', (req, res) => handler(req, res));
    app.route('PUT', '/storage/signed', (req, res) => handler(req, res));
    app.precheck('PUT', '/storage/signed', declaredTooLarge);
  }
  app.onClose(() => store.close());
};
