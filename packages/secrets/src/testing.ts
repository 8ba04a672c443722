/**
 * The conformance suite of `SecretsProvider`s: the tests the `env` and `aws` providers pass, for
 * a provider of your own to prove itself with. It takes vitest's `{ describe, it, expect }`
 * (this entry imports no test runner):
 *
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { secretsProviderConformance } from '@org/secrets/testing';
 *
 * secretsProviderConformance('vault', async () => ({ provider, put, close }), { describe, it, expect });
 * ```
 */

import type { FetchedSecret, SecretsProvider } from './provider.js';
import { createSecrets } from './secrets.js';

/** The matchers the suite uses; vitest's `expect` (and jest's) provide them. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeTypeOf(type: string): void;
  readonly not: Matchers;
}

/** The parts of a test runner the suite uses: vitest's `{ describe, it, expect }`. */
export interface TestApi {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>, timeout?: number): unknown;
  expect(actual: unknown): Matchers;
}

/** A provider under test, and how the suite makes secrets in its backend. */
export interface ProviderHarness {
  provider: SecretsProvider;
  /** Makes (or gives a new current version of) the secret `name` with `value`. */
  put(name: string, value: string | Uint8Array): Promise<void>;
  /** Releases what the harness holds; the suite calls `provider.close()` itself. */
  close?(): Promise<void> | void;
}

/** What the backend can do; a test of something it cannot do is not declared. */
export interface ProviderConformanceOptions {
  /** Whether it stores bytes (Secrets Manager's `SecretBinary`). @default false */
  binary?: boolean | undefined;
  /** Whether `AWSPREVIOUS` reads the version before the current one. @default false */
  versions?: boolean | undefined;
  /** Whether an aborted `signal` makes `get` reject (a network provider). @default false */
  abortable?: boolean | undefined;
}

let unique = 0;
const fresh = (label: string) => `conformance-${process.pid}-${Date.now()}-${++unique}-${label}`;
const bare = (name: string) => ({ name, bareName: name });
const text = (got: FetchedSecret | undefined) =>
  got === undefined
    ? undefined
    : typeof got.value === 'string'
      ? got.value
      : new TextDecoder().decode(got.value);

/**
 * Declares the suite every provider must pass, as `conformance: <name>`. `setup` runs once per
 * test, so each test has a provider of its own.
 */
export function secretsProviderConformance(
  name: string,
  setup: () => Promise<ProviderHarness>,
  t: TestApi,
  options: ProviderConformanceOptions = {},
): void {
  const { describe, it, expect } = t;
  const signal = () => new AbortController().signal;
  const withHarness = (fn: (h: ProviderHarness) => Promise<void>) => async () => {
    const h = await setup();
    try {
      await fn(h);
    } finally {
      await h.provider.close?.();
      await h.close?.();
    }
  };

  describe(`conformance: ${name}`, () => {
    it(
      'reads what was put, and a new value after a put',
      withHarness(async (h) => {
        const n = fresh('text');
        await h.put(n, 'first value');
        expect(text(await h.provider.get({ ...bare(n), signal: signal() }))).toBe('first value');
        await h.put(n, '{"password":"second"}');
        expect(text(await h.provider.get({ ...bare(n), signal: signal() }))).toBe(
          '{"password":"second"}',
        );
      }),
    );

    it(
      'resolves undefined for a secret that does not exist',
      withHarness(async (h) => {
        expect(await h.provider.get({ ...bare(fresh('none')), signal: signal() })).toBeUndefined();
      }),
    );

    it(
      'has a kind, and describe() names where a secret is read',
      withHarness(async (h) => {
        expect(h.provider.kind).toBeTypeOf('string');
        if (h.provider.describe) expect(h.provider.describe(bare('x'))).toBeTypeOf('string');
      }),
    );

    it(
      'getMany returns what exists, keyed by name, and leaves the rest out',
      withHarness(async (h) => {
        const getMany = h.provider.getMany?.bind(h.provider);
        if (!getMany) return;
        const [a, b, missing] = [fresh('a'), fresh('b'), fresh('missing')];
        await h.put(a, 'A');
        await h.put(b, 'B');
        const got = await getMany([bare(a), bare(b), bare(missing)], signal());
        expect(text(got.get(a))).toBe('A');
        expect(text(got.get(b))).toBe('B');
        expect(got.has(missing)).toBe(false);
      }),
    );

    it(
      'works under createSecrets: cached, with JSON fields',
      withHarness(async (h) => {
        const n = fresh('json');
        await h.put(n, JSON.stringify({ username: 'u', password: 'p' }));
        const secrets = createSecrets({ provider: { ...h.provider, close: undefined } });
        expect((await secrets.get(n, { field: 'password' })).reveal()).toBe('p');
        expect((await secrets.get(n, { field: 'username' })).reveal()).toBe('u');
        await secrets.close();
      }),
    );

    if (options.binary) {
      it(
        'reads bytes as they were put',
        withHarness(async (h) => {
          const n = fresh('bin');
          await h.put(n, new Uint8Array([0, 255, 1, 128]));
          const got = await h.provider.get({ ...bare(n), signal: signal() });
          expect(got?.value instanceof Uint8Array).toBe(true);
          expect([...((got?.value as Uint8Array | undefined) ?? [])]).toEqual([0, 255, 1, 128]);
        }),
      );
    }

    if (options.versions) {
      it(
        'AWSPREVIOUS reads the version before the current one; version ids change',
        withHarness(async (h) => {
          const n = fresh('versions');
          await h.put(n, 'v1');
          const first = await h.provider.get({ ...bare(n), signal: signal() });
          await h.put(n, 'v2');
          const current = await h.provider.get({ ...bare(n), signal: signal() });
          expect(text(current)).toBe('v2');
          expect(current?.versionId).not.toBe(first?.versionId);
          const previous = await h.provider.get({
            ...bare(n),
            version: 'AWSPREVIOUS',
            signal: signal(),
          });
          expect(text(previous)).toBe('v1');
        }),
      );
    }

    if (options.abortable) {
      it(
        'rejects when its signal has aborted',
        withHarness(async (h) => {
          const n = fresh('abort');
          await h.put(n, 'x');
          const ac = new AbortController();
          ac.abort();
          const outcome = await h.provider.get({ ...bare(n), signal: ac.signal }).then(
            () => 'resolved',
            () => 'rejected',
          );
          expect(outcome).toBe('rejected');
        }),
      );
    }
  });
}
