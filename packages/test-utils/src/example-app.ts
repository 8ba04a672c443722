import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { freePort } from './net.js';

/** An example app (examples/*) running in a child process, as `npm start` runs it. */
export interface Started {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `raw` on a socket and resolves with the status line of the answer. */
  rawStatusLine(raw: string): Promise<string>;
  /** A PUT sent part by part: headers go at once, the body as `write` and `end` are called. */
  openUpload(path: string): OpenUpload;
  /** SIGKILL, if it still runs. */
  kill(): Promise<void>;
}

/** An upload in flight (see {@link Started.openUpload}). */
export interface OpenUpload {
  write(part: string): void;
  end(part?: string): void;
  /** The answer's status. */
  readonly status: Promise<number>;
}

/** A start script running in a child process, with what it wrote so far. */
export interface ScriptRun {
  readonly child: ChildProcess & {
    stdout: NonNullable<ChildProcess['stdout']>;
    stderr: NonNullable<ChildProcess['stderr']>;
  };
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `script` (`tsx src/main.ts`) in `dir` with `env` as it is, collecting its output. */
export function runScript(dir: string, script: string, env: NodeJS.ProcessEnv): ScriptRun {
  const [command, ...args] = script.split(/\s+/);
  const child = spawn(command!, args, { cwd: dir, env, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * Runs `script` (the package's start script, such as `tsx src/main.ts`) in `dir` with
 * `node_modules/.bin` on the PATH, as npm and pnpm do, and waits for it to say it listens.
 * The variables that would switch to real infrastructure are removed (it runs on the embedded
 * defaults) unless `env` sets them.
 */
export async function startApp(
  dir: string,
  script: string,
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<Started> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['REDIS_URL', 'AWS_S3_BUCKET', 'SENTRY_DSN', 'KEYRING_ENCRYPTION_KEY']) {
    delete childEnv[name];
  }
  Object.assign(childEnv, { NODE_ENV: 'development', HOST: '127.0.0.1' }, env, {
    PORT: String(port),
    PATH: `${join(dir, 'node_modules', '.bin')}${delimiter}${process.env.PATH ?? ''}`,
  });
  const run = runScript(dir, script, childEnv);
  const { child, exited } = run;
  const base = `http://127.0.0.1:${port}`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within ${timeoutMs} ms\n${run.stderr()}`)),
      timeoutMs,
    );
    const onData = () => {
      if (!run.stdout().includes(`listening on ${base}`)) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve();
    };
    child.stdout.on('data', onData);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`the app exited (${code}) before listening\n${run.stderr()}`));
    });
  });

  return {
    child,
    base,
    get stdout() {
      return run.stdout();
    },
    get stderr() {
      return run.stderr();
    },
    exited,
    rawStatusLine: (raw) => rawStatusLine(port, raw),
    openUpload: (path) => openUpload(port, path),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

function rawStatusLine(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end === -1) return;
      resolve(text.slice(0, end));
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

function openUpload(port: number, path: string): OpenUpload {
  const req = request({ port, host: '127.0.0.1', path, method: 'PUT' });
  req.setHeader('content-type', 'text/plain');
  req.flushHeaders();
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  return { write: (part) => void req.write(part), end: (part) => void req.end(part), status };
}

/**
 * A PUT of `chunks` (with `Content-Length`, or chunked), resolving with the status even when the
 * server answers before the whole body is sent (as it does for an upload over the limit).
 */
export function upload(
  base: string,
  path: string,
  chunks: Buffer[],
  options: { chunked?: boolean } = {},
): Promise<number> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path, method: 'PUT' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.setHeader('content-type', 'application/octet-stream');
    if (!options.chunked) {
      req.setHeader(
        'content-length',
        chunks.reduce((n, c) => n + c.length, 0),
      );
    }
    // The server may close the socket once it has answered: a write error then is expected.
    req.on('error', (err) => setTimeout(() => reject(err), 1_000));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** The `start` script of the package in `dir` (what `npm start` runs there). */
export function startScript(dir: string): string {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    scripts?: { start?: unknown };
  };
  const start = pkg.scripts?.start;
  if (typeof start !== 'string' || start.trim() === '') {
    throw new Error(`${join(dir, 'package.json')} has no "start" script`);
  }
  return start;
}
