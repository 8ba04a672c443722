/**
 * @opentelemetry/api is an optional peer: the built entries (ESM and CJS) must load and work in a
 * project that does not have it, and must load nothing of it while no SDK is registered. The
 * package is built into a temporary project with no node_modules above it, as an installed
 * tarball would be.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkgDir = join(import.meta.dirname, '..');
let project: string;

beforeAll(async () => {
  project = realpathSync(mkdtempSync(join(tmpdir(), 'org-core-no-otel-')));
  const installed = join(project, 'node_modules', '@org', 'core');
  mkdirSync(installed, { recursive: true });
  cpSync(join(pkgDir, 'package.json'), join(installed, 'package.json'));
  await build({
    config: false,
    entry: { index: join(pkgDir, 'src/index.ts') },
    format: ['esm', 'cjs'],
    outDir: join(installed, 'dist'),
    target: 'node20',
    splitting: false,
    silent: true,
  });
}, 60_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

// Exercises every telemetry entry point and prints what it saw as JSON.
const exercise = `
  const t = core.createTelemetry({ name: 'probe' }, {
    calls: { kind: 'counter', name: 'org.probe.calls', unit: '{call}', description: 'Calls.' },
    size: { kind: 'observableGauge', name: 'org.probe.size', unit: '1', description: 'Size.' },
  });
  const out = {
    source: typeof t.addCallback('size', { n: 1 }, (o, r) => r.observe(o.n)),
    metrics: t.metrics() === undefined,
    tracing: t.tracing(),
    span: t.withSpan('s', {}, (span) => span === undefined ? 'plain' : 'span'),
    observed: await t.observe('s', {}, async () => 'ok', () => { throw new Error('recorded'); }),
  };`;

function run(kind: 'esm' | 'cjs', prelude = '', extra = '') {
  const code =
    kind === 'esm'
      ? `${prelude}; const core = await import('@org/core'); ${exercise} ${extra}; console.log(JSON.stringify(out));`
      : `${prelude}; (async () => { const core = require('@org/core'); ${exercise} ${extra}; console.log(JSON.stringify(out)); })();`;
  const stdout = execFileSync(
    process.execPath,
    kind === 'esm' ? ['--input-type=module', '-e', code] : ['-e', code],
    { cwd: project, encoding: 'utf8', env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

const REGISTER_FAKE_SDK = `globalThis[Symbol.for('opentelemetry.js.api.1')] = { version: '1.10.0', metrics: {}, trace: {} };
  const warnings = []; process.on('warning', (w) => warnings.push(w.code));`;

describe('@org/core without @opentelemetry/api installed', () => {
  it('cannot resolve the API from the temporary project (the premise)', () => {
    const probe = `try { require.resolve('@opentelemetry/api'); console.log('found') } catch { console.log('missing') }`;
    const found = execFileSync(process.execPath, ['-e', probe], {
      cwd: join(project, 'node_modules', '@org', 'core'),
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' },
    });
    expect(found.trim()).toBe('missing');
  });

  for (const kind of ['esm', 'cjs'] as const) {
    it(`loads the ${kind.toUpperCase()} build and records nothing`, () => {
      expect(run(kind)).toEqual({
        source: 'function',
        metrics: true,
        tracing: false,
        span: 'plain',
        observed: 'ok',
      });
    });

    it(`${kind.toUpperCase()}: an SDK registered without a resolvable API leaves telemetry off, with one warning`, () => {
      const out = run(
        kind,
        REGISTER_FAKE_SDK,
        `await new Promise((r) => setImmediate(r)); out.metricsAgain = t.metrics() === undefined; await new Promise((r) => setImmediate(r)); out.warnings = warnings;`,
      );
      expect(out).toMatchObject({
        metrics: true,
        span: 'plain',
        observed: 'ok',
        metricsAgain: true,
      });
      expect(out.warnings).toEqual(['ORG_TELEMETRY_NO_API']);
    });
  }
});

describe('@org/core with @opentelemetry/api installed and no SDK', () => {
  it('loads no module of the API in either build (the module cache holds none)', () => {
    const entry = createRequire(join(pkgDir, 'package.json')).resolve('@opentelemetry/api');
    const api = entry.slice(
      0,
      entry.lastIndexOf('/@opentelemetry/api/') + '/@opentelemetry/api'.length,
    );
    const link = join(project, 'node_modules', '@opentelemetry', 'api');
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(api, link, 'dir');
    try {
      const cjs = run(
        'cjs',
        '',
        `out.loaded = Object.keys(require.cache).filter((f) => f.includes('@opentelemetry')).length; out.resolvable = !!require.resolve('@opentelemetry/api');`,
      );
      expect(cjs).toMatchObject({
        metrics: true,
        tracing: false,
        span: 'plain',
        loaded: 0,
        resolvable: true,
      });
      const esm = run(
        'esm',
        `import { createRequire } from 'node:module'; const cache = createRequire(import.meta.url).cache;`,
        `out.loaded = Object.keys(cache).filter((f) => f.includes('@opentelemetry')).length`,
      );
      expect(esm).toMatchObject({ metrics: true, tracing: false, span: 'plain', loaded: 0 });
    } finally {
      rmSync(join(project, 'node_modules', '@opentelemetry'), { recursive: true, force: true });
    }
  });
});
