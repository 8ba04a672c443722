import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = process.env.ORG_TEST_DIST === '1';
const here = import.meta.dirname;

/** Runs check-health; resolves its exit code, output and how long it ran. */
function cli(args: string[]) {
  const argv = dist
    ? [join(here, '../dist/cli.js'), ...args]
    : ['--import', 'tsx', join(here, '../src/cli.ts'), ...args];
  const started = performance.now();
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number }>(
    (resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      }),
  );
}

describe.concurrent('check-health exits', () => {
  it('exits once the report is printed, even when the config module holds a handle', async () => {
    const r = await cli(['--config', join(here, 'fixtures/holds-handle.config.mjs')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HEALTHY {2}holds-handle/);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a missing or throwing config module exits 2, without its secrets', async () => {
    const [missing, throwing] = await Promise.all([
      cli(['--config', join(here, 'fixtures/no-such.config.mjs')]),
      cli(['--config', join(here, 'fixtures/throwing.config.mjs')]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^check-health: .*no-such\.config\.mjs/);
    expect(throwing.code).toBe(2);
    expect(throwing.stderr).toMatch(/^check-health: .*throwing\.config\.mjs/);
    expect(throwing.stderr).not.toContain('s3cretPass');
  });

  it('--timeout that is no whole number of milliseconds in range is a usage error', async () => {
    const results = await Promise.all(
      ['0.5', '1e12', '0', '-1', 'soon', '30d'].map((t) =>
        cli(['http://127.0.0.1:9/health/full', `--timeout=${t}`]),
      ),
    );
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--timeout takes');
      expect(r.stderr).not.toContain('unreachable');
    }
  });
});
