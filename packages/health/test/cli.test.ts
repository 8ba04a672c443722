import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createHealth } from '@org/health';
import { freePort } from '@org/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { listen } from './helpers.js';

const dist = process.env.ORG_TEST_DIST === '1';
const here = import.meta.dirname;

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const argv = dist
    ? [join(here, '../dist/cli.js'), ...args]
    : ['--import', 'tsx', join(here, '../src/cli.ts'), ...args];
  const child = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c;
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

// Each case spawns a process; they run concurrently against their own servers.
describe.concurrent('check-health', async () => {
  const service = (down: boolean) =>
    createHealth({
      serviceId: 'orders',
      checks: {
        database: () => {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432 password=x');
        },
        cache: { check: () => undefined, critical: false },
      },
    });
  const srv = await listen(service(false).handler());
  const downSrv = await listen(service(true).handler());
  afterAll(async () => {
    await srv.close();
    await downSrv.close();
  });

  it('prints the full report and exits 0 when healthy; appends /health/full to an origin', async () => {
    const r = await cli([srv.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HEALTHY {2}orders/);
    expect(r.stdout).toMatch(/✓ database +ok/);
    expect(r.stdout).toMatch(/✓ cache +ok .*\(optional\)/);
  });

  it('exits 1 when unhealthy, printing the safe reason; --json prints the report', async () => {
    const [r, j] = await Promise.all([
      cli([`${downSrv.url}/health/full`]),
      cli([`${downSrv.url}/health/full`, '--json']),
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ database +fail .*ECONNREFUSED/);
    expect(r.stdout).not.toContain('password=x');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({
      status: 'unhealthy',
      checks: { database: { status: 'fail' } },
    });
  });

  it('exits 2 when the service is unreachable or the URL is no health report', async () => {
    const port = await freePort();
    const [r, quick, none] = await Promise.all([
      cli([`http://127.0.0.1:${port}/health/full`, '--timeout', '2000']),
      cli([`${srv.url}/health`]),
      cli([]),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is unreachable (ECONNREFUSED)');
    expect(quick.code).toBe(2);
    expect(quick.stderr).toContain('not a full report');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: check-health');
  });

  it('says what is wrong with a port fetch refuses and with a JSON file given as --config', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'check-health-'));
    const json = join(dir, 'health.json');
    await writeFile(json, '{"checks":{}}');
    // 6000 is one of the ports fetch refuses to use ("bad port"): not a bare "TypeError".
    const [bad, config] = await Promise.all([
      cli(['http://127.0.0.1:6000/health/full']),
      cli(['--config', json]),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is unreachable (bad port)');
    expect(config.code).toBe(2);
    expect(config.stderr).toContain('a JavaScript module (.js, .mjs)');
    expect(config.stderr).not.toContain('***');
  });

  it('runs the checks of a config module; degraded exits 0 unless --fail-on-degraded', async () => {
    const config = join(here, 'fixtures/health.config.mjs');
    const [r, strict, critical] = await Promise.all([
      cli(['--config', config]),
      cli(['--config', config, '--fail-on-degraded']),
      cli(['--config', config], { SEARCH_CRITICAL: '1' }),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^DEGRADED {2}fixture/);
    expect(r.stdout).toContain('token=***');
    expect(r.stdout).not.toContain('abc123');
    expect(strict.code).toBe(1);
    expect(critical.code).toBe(1);
  });
});
