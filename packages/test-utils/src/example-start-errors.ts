import { createServer, type Server } from 'node:net';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript, startScript } from './example-app.js';

/** What {@link startErrorsSuite} needs of an example app. */
export interface StartErrorsOptions {
  /** The example's folder (with its package.json and start script). */
  dir: string;
  /** Its name in the test titles. */
  name: string;
  /** What the line about `SHUTDOWN_DELAY=soon` names. @default 'shutdownDelay' */
  durationName?: string;
  /** Lines the app prints on every start (a notice that a dev key was generated), left out. */
  notices?: RegExp;
}

/** Runs the start script with `env` until it exits (at most `timeoutMs`). */
async function runStart(
  dir: string,
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runScript(dir, startScript(dir), {
    ...process.env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    ...env,
    PATH: `${join(dir, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const { code } = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/**
 * What a new user gets wrong when starting an example (a port already taken, a `PORT` that is
 * no port, a duration that does not parse): the process exits 1 with one line on stderr that
 * says what to change, never a stack trace.
 */
export function startErrorsSuite({
  dir,
  name,
  durationName = 'shutdownDelay',
  notices,
}: StartErrorsOptions): void {
  describe(`${name}: a start that cannot work says why in one line`, () => {
    let holder: Server;
    let taken: number;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      taken = (holder.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    });

    const expectOneLine = (r: { code: number | null; stderr: string }, ...words: string[]) => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((line) => !notices?.test(line));
      expect(lines, r.stderr).toHaveLength(1);
      for (const w of words) expect(lines[0]).toContain(w);
    };

    it('a port already in use', async () => {
      expectOneLine(await runStart(dir, { PORT: String(taken) }), `${taken}`, 'PORT');
    }, 30_000);

    it('a PORT that is no port', async () => {
      expectOneLine(await runStart(dir, { PORT: 'eighty' }), 'PORT', 'eighty');
      expectOneLine(await runStart(dir, { PORT: '70000' }), 'PORT', '70000');
    }, 30_000);

    it('a duration that does not parse', async () => {
      expectOneLine(await runStart(dir, { PORT: '0', SHUTDOWN_DELAY: 'soon' }), durationName);
    }, 30_000);
  });
}
