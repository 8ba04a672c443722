/** The matchers the suites use; vitest's `expect` (and jest's) provide them. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toHaveLength(length: number): void;
  toContain(item: unknown): void;
  toMatch(pattern: RegExp): void;
  toBeGreaterThan(n: number): void;
  readonly not: Matchers;
}

/**
 * The parts of a test runner the suites use: pass vitest's `{ describe, it, expect }` (the
 * package itself never imports vitest). `describe.runIf(cond)` or `describe.skip` may stand in
 * for `describe`, to skip a backend that is not available.
 */
export interface TestApi {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>, timeout?: number): unknown;
  expect(actual: unknown): Matchers;
}

/** The `code` of what `promise` rejects with, or `'resolved'`. */
export function settled(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string } | null)?.code ?? String(e),
  );
}

/** Resolves when `fn()` returns true, polling every 20 ms; false after `timeoutMs`. */
export async function until(
  fn: () => boolean | Promise<boolean>,
  timeoutMs = 3000,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
