import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

// `@org/resilience/retry` is what a package that only retries imports (`@org/storage`): the
// built entry must not load opossum, directly or through anything it imports. Each check runs
// in a fresh `node`, and is shown to see opossum where it is loaded (the root entry).
const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const OPOSSUM = /[\\/]opossum[\\/]/;

beforeAll(() => {
  // CI builds before it tests; a local run without a build makes one.
  if (!existsSync(join(dist, 'retry.js')) || !existsSync(join(dist, 'retry.cjs'))) {
    execFileSync('npx', ['tsup', '--silent'], { cwd: root, stdio: 'inherit' });
  }
}, 120_000);

const node = (args: string[]) =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });

/** Every file `require(file)` loads (CJS), from `require.cache`. */
function requireGraph(file: string): string[] {
  const script = `
    const m = require(${JSON.stringify(join(dist, file))});
    if (Object.keys(m).length === 0) throw new Error('no exports');
    console.log(JSON.stringify(Object.keys(require.cache)));
  `;
  return JSON.parse(node(['-e', script])) as string[];
}

/** Every module URL `import(file)` resolves (ESM), recorded by a resolve hook. */
function importGraph(file: string): string[] {
  const hook = `data:text/javascript,${encodeURIComponent(`
    let port;
    export function initialize(data) { port = data.port; }
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      port.postMessage(r.url);
      return r;
    }
  `)}`;
  const script = `
    import { register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const { port1, port2 } = new MessageChannel();
    const seen = [];
    port1.on('message', (m) => seen.push(m));
    port1.unref();
    register(${JSON.stringify(hook)}, { data: { port: port2 }, transferList: [port2] });
    const m = await import(${JSON.stringify(pathToFileURL(join(dist, file)).href)});
    if (Object.keys(m).length === 0) throw new Error('no exports');
    await new Promise((r) => setTimeout(r, 100));
    console.log(JSON.stringify(seen));
  `;
  return JSON.parse(node(['--input-type=module', '-e', script])) as string[];
}

describe('the built @org/resilience/retry entry', () => {
  it('loads no opossum when required (CJS): nothing of it in require.cache', () => {
    const loaded = requireGraph('retry.cjs');
    expect(loaded.some((f) => f.includes(`${join('core', 'dist')}`))).toBe(true);
    expect(loaded.filter((f) => OPOSSUM.test(f))).toEqual([]);
    // The same check sees opossum where it is loaded.
    expect(requireGraph('index.cjs').some((f) => OPOSSUM.test(f))).toBe(true);
  });

  it('loads no opossum when imported (ESM): its module graph holds none', () => {
    const urls = importGraph('retry.js');
    expect(urls.some((u) => u.includes('/core/'))).toBe(true);
    expect(urls.filter((u) => OPOSSUM.test(u))).toEqual([]);
    expect(importGraph('index.js').some((u) => OPOSSUM.test(u))).toBe(true);
  });

  it('has no reference to opossum in its built files', () => {
    for (const file of ['retry.js', 'retry.cjs']) {
      expect(readFileSync(join(dist, file), 'utf8')).not.toMatch(/opossum/);
    }
  });
});
