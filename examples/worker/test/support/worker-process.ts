import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const workerDir = join(import.meta.dirname, '..', '..');

/** The machine's PostgreSQL, as the worker's default DATABASE_URL reaches it. */
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const pgUrl = (database: string, password?: string) =>
  `postgres://${PG.user}${password ? `:${password}` : ''}@${PG.host}:${PG.port}/${database}`;

/** Runs SQL through `psql` (the client tools the worker needs anyway) on `database`. */
export async function psql(database: string, sql: string): Promise<string> {
  const { stdout } = await run(
    'psql',
    ['-X', '-w', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    {
      env: {
        PATH: process.env.PATH ?? '',
        PGHOST: PG.host,
        PGPORT: String(PG.port),
        PGUSER: PG.user,
        PGDATABASE: database,
      },
      timeout: 20_000,
    },
  );
  return stdout.trim();
}

/** A worker process started the way the README says: `tsx --conditions=@org/source src/main.ts`. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stdout(): string;
  stderr(): string;
  /** The JSON log lines on stdout so far. */
  events(): Record<string, unknown>[];
  /** Resolves with the first log line that `match` accepts, or rejects past `timeoutMs` or at exit. */
  waitFor(
    match: (e: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>>;
  kill(): Promise<void>;
}

export function startWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(
    join(workerDir, 'node_modules', '.bin', 'tsx'),
    ['--conditions=@org/source', 'src/main.ts'],
    {
      cwd: workerDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const events = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    events,
    waitFor(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = () => {
          const found = events().find(match);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no such log line within ${timeoutMs} ms:\n${out}\n${err}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(({ code }) => {
          check();
          done();
          reject(new Error(`the worker exited (code ${code}) first:\n${out}\n${err}`));
        });
        check();
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
