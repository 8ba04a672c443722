// Builds the real site once for every test file (into .artifacts/site, not the dev output), with
// the network refused; the tests read the result through `inject('site')`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { artifactsDir, buildSite, docsDir } from './build-site.js';

declare module 'vitest' {
  export interface ProvidedContext {
    site: {
      outDir: string;
      ok: boolean;
      output: string;
      durationMs: number;
      networkAttempts: string[];
    };
  }
}

export default async function setup(project: TestProject) {
  mkdirSync(artifactsDir, { recursive: true });
  const outDir = join(artifactsDir, 'site');
  const result = await buildSite(docsDir, { outDir, api: true, logName: 'site' });
  writeFileSync(join(artifactsDir, 'site-build.log'), result.output);
  console.log(
    `docs build: ${result.ok ? 'ok' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  project.provide('site', { outDir, ...result });
}
