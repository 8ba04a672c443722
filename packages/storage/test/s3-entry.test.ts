import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What loading a built entry brings into a fresh process: the S3 driver retries through
// @org/resilience/retry and must never load opossum (the breaker's dependency).
const dist = new URL('../dist/', import.meta.url).pathname;
const child = new URL('./fixtures/load-entry.mjs', import.meta.url).pathname;

let logs: string;
beforeAll(async () => {
  logs = await mkdtemp(join(tmpdir(), 'org-storage-entry-'));
});
afterAll(() => rm(logs, { recursive: true, force: true }));

let n = 0;
function modulesLoadedBy(file: string, format: 'esm' | 'cjs'): string[] {
  const out = execFileSync(
    process.execPath,
    [child, file, format, join(logs, `${format}-${++n}.log`)],
    { cwd: dist, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return JSON.parse(out) as string[];
}
const opossum = (mods: string[]) => mods.filter((m) => /[/\\]opossum[/\\]/.test(m));

describe('the built @org/storage/s3 entry', () => {
  it('is built (run `pnpm build` in packages/storage first)', () => {
    expect(existsSync(join(dist, 's3.js')), `${dist}s3.js`).toBe(true);
    expect(existsSync(join(dist, 's3.cjs')), `${dist}s3.cjs`).toBe(true);
  });

  it('the probe sees opossum when it is loaded', () => {
    const path = createRequire(join(dist, '..', '..', 'resilience', 'package.json')).resolve(
      'opossum',
    );
    expect(opossum(modulesLoadedBy(path, 'esm')).length).toBeGreaterThan(0);
    expect(opossum(modulesLoadedBy(path, 'cjs')).length).toBeGreaterThan(0);
  });

  for (const [format, file] of [
    ['esm', 's3.js'],
    ['cjs', 's3.cjs'],
  ] as const) {
    it(`dist/${file} loads the AWS SDK and @org/resilience/retry, never opossum`, () => {
      const mods = modulesLoadedBy(join(dist, file), format);
      expect(mods.some((m) => /[/\\]client-s3[/\\]/.test(m))).toBe(true);
      expect(mods.some((m) => /[/\\]resilience[/\\]dist[/\\]retry\.c?js$/.test(m))).toBe(true);
      expect(opossum(mods)).toEqual([]);
    });
  }
});
