import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { check, isStorageError, StorageError, StorageErrorCode } from './errors.js';
import { isActiveContentType, parseRange } from './handler-headers.js';
import type { UrlSigner } from './signing.js';
import type { PutResult, StorageDriver } from './types.js';

/**
 * A node:http handler for signed URLs. Answers requests under the signer's base path and
 * returns true; for other paths it calls `next` (or answers 404) and returns false.
 */
export type SignedUrlHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: () => void,
) => Promise<boolean>;

/** Options of `createSignedUrlHandler`. */
export interface SignedUrlHandlerOptions {
  /** The driver that holds the objects. */
  driver: StorageDriver;
  /** The signer that made the URLs (same secret and base URL). */
  signer: UrlSigner;
  /** Largest upload accepted through a signed PUT, in bytes. @default 5 GiB */
  maxUploadBytes?: number | undefined;
  /**
   * Serve objects whose type a browser would run or render as active content (HTML, XHTML, SVG,
   * XML, JavaScript…) inline, as stored. Off by default: such uploads are sent with
   * `Content-Disposition: attachment`, so an upload cannot run script from the app's origin.
   * `X-Content-Type-Options: nosniff` is sent either way. @default false
   */
  inlineActiveContent?: boolean | undefined;
}

/** Options of `storage.handler()` and the local driver's `handler()`. */
export type StorageHandlerOptions = Pick<
  SignedUrlHandlerOptions,
  'maxUploadBytes' | 'inlineActiveContent'
>;

function text(
  res: ServerResponse,
  status: number,
  body: string,
  extra?: Record<string, string>,
): void {
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    ...extra,
  };
  // An upload refused before its body was read leaves bytes on the socket: do not reuse it.
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers).end(`${body}\n`);
}

/** Serves the local driver's signed URLs: GET and HEAD (with `Range`) and PUT. */
export function createSignedUrlHandler(options: SignedUrlHandlerOptions): SignedUrlHandler {
  const { driver, signer } = options;
  const maxUpload = check.integer(options.maxUploadBytes, 'maxUploadBytes', 5 * 1024 ** 3, {
    min: 0,
  });
  const inlineActive = check.boolean(options.inlineActiveContent, 'inlineActiveContent', false);
  return async (req, res, next) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', signer.baseUrl);
    } catch {
      // A request target no URL parser takes (`http://:99999/`, `http://[::1/`): the client's
      // mistake, answered here rather than thrown out of the server's listener.
      text(res, 400, 'Bad request target');
      return true;
    }
    if (signer.keyOf(url) === undefined) {
      if (next) next();
      else text(res, 404, 'Not found');
      return false;
    }
    try {
      const signed = signer.verify(url);
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      if (method !== signed.method) {
        text(res, 405, `This URL allows ${signed.method} only`, {
          allow: signed.method === 'GET' ? 'GET, HEAD' : 'PUT',
        });
        return true;
      }
      if (signed.method === 'PUT') {
        const ct = req.headers['content-type'];
        if (signed.contentType !== undefined && ct !== signed.contentType) {
          text(res, 403, `Send Content-Type: ${signed.contentType}`);
          return true;
        }
        if (Number(req.headers['content-length'] ?? 0) > maxUpload) {
          text(res, 413, `Uploads are limited to ${maxUpload} bytes`);
          return true;
        }
        // Chunked uploads carry no length: count, and fail the put past the limit.
        let seen = 0;
        const limited = req.pipe(
          new Transform({
            transform(chunk: Buffer, _enc, done) {
              seen += chunk.length;
              done(
                seen > maxUpload
                  ? new StorageError(
                      StorageErrorCode.TooLarge,
                      `Uploads are limited to ${maxUpload} bytes`,
                    )
                  : null,
                chunk,
              );
            },
          }),
        );
        req.once('error', (err) => limited.destroy(err));
        limited.on('error', () => {}); // surfaced by the put's rejection
        let result: PutResult;
        try {
          result = await driver.put(signed.key, limited, {
            contentType: ct ?? 'application/octet-stream',
          });
        } catch (err) {
          if (seen > maxUpload) {
            text(res, 413, `Uploads are limited to ${maxUpload} bytes`);
            return true;
          }
          throw err;
        }
        res.writeHead(200, { 'content-type': 'application/json', etag: `"${result.sha256}"` });
        res.end(JSON.stringify({ key: result.key, size: result.size, sha256: result.sha256 }));
        return true;
      }
      const info = await driver.head(signed.key, {});
      const range = parseRange(req.headers.range, info.size);
      const contentType = info.contentType ?? 'application/octet-stream';
      const headers: Record<string, string | number> = {
        'content-type': contentType,
        'x-content-type-options': 'nosniff',
        'accept-ranges': 'bytes',
        'last-modified': info.lastModified.toUTCString(),
      };
      if (!inlineActive && isActiveContentType(contentType)) {
        headers['content-disposition'] = 'attachment';
      }
      if (info.cacheControl !== undefined) headers['cache-control'] = info.cacheControl;
      if (info.sha256 !== undefined) headers.etag = `"${info.sha256}"`;
      if (range === 'unsatisfiable') {
        const body =
          info.size === 0
            ? 'The object is empty: ask without a Range header\n'
            : `No part of the range is inside the object (${info.size} bytes): ask within bytes=0-${info.size - 1}\n`;
        res
          .writeHead(416, {
            'content-type': 'text/plain; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'content-range': `bytes */${info.size}`,
            'x-content-type-options': 'nosniff',
          })
          .end(req.method === 'HEAD' ? undefined : body);
        return true;
      }
      const end = range ? range.end : info.size - 1;
      const status = range ? 206 : 200;
      headers['content-length'] = range ? end - range.start + 1 : info.size;
      if (range) headers['content-range'] = `bytes ${range.start}-${end}/${info.size}`;
      res.writeHead(status, headers);
      if (req.method === 'HEAD' || info.size === 0) {
        res.end();
        return true;
      }
      // A client already gone gets no file opened for it.
      if (res.destroyed) return true;
      const stream = await driver.getStream(
        signed.key,
        range ? { range: { start: range.start, end } } : {},
      );
      await pipeline(stream, res).catch((err: unknown) => {
        // pipeline leaves a source that never started reading to its owner: destroy it, so the
        // driver's file handle is closed now and not by the garbage collector.
        stream.destroy();
        throw err;
      });
      return true;
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return true;
      }
      if (isStorageError(err, StorageErrorCode.InvalidSignature)) text(res, 403, err.message);
      else if (isStorageError(err, StorageErrorCode.NotFound)) text(res, 404, 'Not found');
      else if (isStorageError(err, StorageErrorCode.InvalidKey)) text(res, 400, err.message);
      else if (isStorageError(err, StorageErrorCode.KeyConflict)) {
        text(res, 409, 'The key is both an object and a folder of other objects: use another key');
      } else text(res, 500, 'Storage error');
      return true;
    }
  };
}
