// Builds a VitePress site (the real one, or a fixture) the way `pnpm docs:build` does, with the
// network refused (support/no-network.mjs), and reports what happened.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const docsDir = fileURLToPath(new URL('../..', import.meta.url));
export const artifactsDir = join(docsDir, '.artifacts');
const bin = (name: string) => join(docsDir, 'node_modules', '.bin', name);
const guard = fileURLToPath(new URL('./no-network.mjs', import.meta.url));

export interface BuildResult {
  ok: boolean;
  output: string;
  durationMs: number;
  /** Connections and lookups the guard refused. */
  networkAttempts: string[];
}

function exec(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ ok: boolean; output: string }>((resolve) => {
    execFile(
      file,
      args,
      { cwd, env, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
  });
}

/** typedoc (when `api`), then `vitepress build <root>`, with the network refused. */
export async function buildSite(
  root: string,
  options: { outDir: string; api?: boolean; logName: string },
): Promise<BuildResult> {
  const networkLog = join(artifactsDir, `${options.logName}.network.log`);
  rmSync(networkLog, { force: true });
  const env = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${guard}`.trim(),
    ORG_NO_NETWORK_LOG: networkLog,
    // No proxy either: a build that needs the network must fail here, not find a way out.
    HTTP_PROXY: '',
    HTTPS_PROXY: '',
    http_proxy: '',
    https_proxy: '',
  };
  const started = performance.now();
  let output = '';
  if (options.api) {
    const api = await exec(bin('typedoc'), ['--options', 'typedoc.config.mjs'], docsDir, env);
    output += api.output;
    if (!api.ok) {
      return { ok: false, output, durationMs: performance.now() - started, networkAttempts: [] };
    }
  }
  const site = await exec(
    bin('vitepress'),
    ['build', root, '--outDir', options.outDir],
    docsDir,
    env,
  );
  output += site.output;
  const networkAttempts = existsSync(networkLog)
    ? readFileSync(networkLog, 'utf8').split('\n').filter(Boolean)
    : [];
  return { ok: site.ok, output, durationMs: performance.now() - started, networkAttempts };
}
