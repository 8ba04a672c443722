import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Clock, type Duration, systemClock } from '@org/core';
import { check, invalidOption, StorageError, StorageErrorCode } from './errors.js';
import { expiresInMs } from './expires.js';
import type { SignedMethod } from './types.js';

/** How signed URLs of the local driver are made and checked. */
export interface UrlSigningOptions {
  /**
   * HMAC-SHA256 key, at least 32 bytes. Keep it secret and the same on every instance that
   * serves the URLs. @default 32 random bytes per process (URLs die with the process)
   */
  secret?: string | Buffer | undefined;
  /**
   * Absolute URL under which `handler()` is mounted; object keys are appended to it.
   * @default "http://localhost:3000/storage/signed"
   */
  baseUrl?: string | undefined;
  /**
   * Put the key in a `key` query parameter of `baseUrl` instead of appending it to the path,
   * for routers that match exact paths. @default false
   */
  keyInQuery?: boolean | undefined;
  /** The clock that dates and checks expiries (core's `Clock`); inject one in tests. @default systemClock */
  clock?: Clock | undefined;
}

/** A verified signed request. */
export interface SignedRequest {
  key: string;
  method: SignedMethod;
  /** Expiry, in milliseconds since the epoch (URLs carry whole seconds). */
  expiresAtMs: number;
  contentType: string | undefined;
}

/** Signs and verifies the local driver's URLs (`?expires=&method=&sig=`). */
export interface UrlSigner {
  readonly baseUrl: URL;
  /**
   * A signed URL of `key` for `method`, valid for `expiresIn` (a Duration from 1 s to 7 days,
   * counted in whole seconds).
   */
  sign(key: string, method: SignedMethod, expiresIn: Duration, contentType?: string): string;
  /** Verifies a request URL (path + query); throws `ERR_STORAGE_INVALID_SIGNATURE`. */
  verify(requestUrl: URL): SignedRequest;
  /** The key a request path names, or undefined when it is not under `baseUrl`. */
  keyOf(requestUrl: URL): string | undefined;
}

const BAD_SIGNATURE = 'Signed URL is invalid or expired: ask for a new one';

function payload(key: string, method: string, expires: number, ct: string): string {
  return `org-storage-v1\n${method}\n${key}\n${expires}\n${ct}`;
}

/** Creates the signer of the local driver's URLs. */
export function createUrlSigner(options: UrlSigningOptions = {}): UrlSigner {
  check.object(options, 'signing');
  // The secret is checked by hand: option checks echo values, and a secret must never be shown.
  const raw = options.secret;
  if (raw !== undefined && typeof raw !== 'string' && !Buffer.isBuffer(raw)) {
    throw invalidOption('`signing.secret` must be a string or a Buffer of at least 32 bytes');
  }
  const secret =
    raw === undefined
      ? randomBytes(32)
      : typeof raw === 'string'
        ? Buffer.from(raw, 'utf8')
        : Buffer.from(raw);
  if (secret.length < 32) {
    throw invalidOption('Signing secret is shorter than 32 bytes: use e.g. `openssl rand -hex 32`');
  }
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') {
    throw invalidOption('`signing.clock` must be a Clock: an object with a now() method');
  }
  const base = check.string(
    options.baseUrl,
    'signing.baseUrl',
    'http://localhost:3000/storage/signed',
  );
  let baseUrl: URL;
  try {
    baseUrl = new URL(base);
  } catch (cause) {
    throw invalidOption(
      '`signing.baseUrl` must be an absolute URL such as http://localhost:3000/storage/signed (STORAGE_PUBLIC_URL)',
      cause,
    );
  }
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const mac = (text: string) => createHmac('sha256', secret).update(text).digest();

  const inQuery = check.boolean(options.keyInQuery, 'signing.keyInQuery', false);
  const keyOf = (url: URL): string | undefined => {
    if (inQuery) {
      return url.pathname.replace(/\/+$/, '') === basePath
        ? (url.searchParams.get('key') ?? undefined)
        : undefined;
    }
    if (!url.pathname.startsWith(`${basePath}/`)) return undefined;
    try {
      return url.pathname
        .slice(basePath.length + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/');
    } catch {
      return undefined;
    }
  };

  return {
    baseUrl,
    sign(key, method, expiresIn, contentType) {
      const expires = Math.floor(clock.now() / 1000) + Math.ceil(expiresInMs(expiresIn) / 1000);
      const sig = mac(payload(key, method, expires, contentType ?? '')).toString('base64url');
      const path = inQuery
        ? basePath
        : `${basePath}/${key.split('/').map(encodeURIComponent).join('/')}`;
      const url = new URL(path, baseUrl);
      if (inQuery) url.searchParams.set('key', key);
      url.searchParams.set('expires', String(expires));
      url.searchParams.set('method', method);
      if (contentType !== undefined) url.searchParams.set('content-type', contentType);
      url.searchParams.set('sig', sig);
      return url.toString();
    },
    keyOf,
    verify(url) {
      const key = keyOf(url);
      const method = url.searchParams.get('method');
      const expires = Number(url.searchParams.get('expires'));
      const sig = Buffer.from(url.searchParams.get('sig') ?? '', 'base64url');
      const ct = url.searchParams.get('content-type') ?? undefined;
      const bad = () => new StorageError(StorageErrorCode.InvalidSignature, BAD_SIGNATURE);
      if (key === undefined || (method !== 'GET' && method !== 'PUT')) throw bad();
      if (!Number.isSafeInteger(expires)) throw bad();
      const want = mac(payload(key, method, expires, ct ?? ''));
      if (sig.length !== want.length || !timingSafeEqual(sig, want)) throw bad();
      if (Math.floor(clock.now() / 1000) > expires) throw bad();
      return { key, method, expiresAtMs: expires * 1000, contentType: ct };
    },
  };
}
