// The test-runner shapes and helpers of the conformance suite (`@org/storage/testing`).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isOrgError } from '@org/core';
import type { Storage } from './storage.js';

/** The matchers the suite uses, as vitest's `expect(value)` has them. */
export interface ConformanceAssertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatchObject(expected: object): void;
  toBeInstanceOf(expected: abstract new (...args: never[]) => unknown): void;
  toBeUndefined(): void;
  toBeGreaterThanOrEqual(expected: number): void;
  toContain(expected: unknown): void;
  resolves: { toBeUndefined(): Promise<void> | void };
}

/** What the suite needs of the test runner: vitest's `describe`, `it`, `expect` and hooks. */
export interface ConformanceTestApi {
  describe: (name: string, fn: () => void) => unknown;
  it: (name: string, fn: () => Promise<void> | void) => unknown;
  expect: (actual: unknown) => ConformanceAssertion;
  beforeAll: (fn: () => Promise<void> | void) => unknown;
  afterAll: (fn: () => Promise<void> | void) => unknown;
}

/** What the suite's setup returns: a storage over the driver under test. */
export interface StorageHarness {
  /** A storage whose namespaces include `uploads` and `logos` (the suite writes under them). */
  storage: Storage;
  /** False where the server does not check signatures (moto accepts any presigned URL). @default true */
  checksSignatures?: boolean | undefined;
  /** Releases what setup made (servers, folders, the storage). */
  close(): Promise<void>;
}

/** Options of {@link storageConformance}. */
export interface ConformanceOptions {
  /** Run the heavy cases (1,005 keys, a 12 MiB stream, a 9 MiB Buffer). @default true */
  heavy?: boolean | undefined;
}

/** Hex SHA-256 of `b`. */
export const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Every item of an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The `code` of the @org error `p` rejects with; undefined when it resolves. */
export async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (!isOrgError(err)) throw err;
    return err.code;
  }
}

/**
 * An error of the kind a body fails with when its client goes away mid-upload: a platform error
 * (not an `OrgError`), so a driver must wrap it as `ERR_STORAGE_BODY`.
 */
export const clientGone = (): Error =>
  new DOMException('the client went away mid-upload', 'NetworkError');

/** What `p` rejects with; undefined when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err;
  }
}

/** A stream that yields `chunks`, then fails with `error` before its end (a client gone mid-upload). */
export function failingBody(chunks: Buffer[], error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* chunks;
      throw error;
    })(),
  );
}

/**
 * A stream of `size` pseudo-random bytes (from `seed`) in chunks of 64 KiB, with no known length,
 * and the SHA-256 of its bytes.
 */
export function generatedBody(size: number, seed = 1): { stream: Readable; sha256: string } {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let x = seed;
  for (let done = 0; done < size; done += 65536) {
    const n = Math.min(65536, size - done);
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i += 4) {
      x = (x * 1103515245 + 12345) >>> 0;
      b.writeUInt32LE(x, i < n - 3 ? i : n - 4);
    }
    hash.update(b);
    chunks.push(b);
  }
  return { stream: Readable.from(chunks), sha256: hash.digest('hex') };
}
