import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** How much of a child's stderr is kept, in bytes: its last lines say why it failed. */
const STDERR_LIMIT = 16 * 1024;

/** A child process (`pg_dump`, `pg_restore`, `psql`) whose stderr is kept, bounded. */
export interface Child {
  readonly process: ChildProcess;
  readonly stdout: Readable;
  readonly stdin: Writable;
  /** The last 16 KiB of stderr, with any password in a connection string blanked. */
  stderr(): string;
  /** Resolves with the exit code (a signal gives `128 + n`-style `null`: reported as -1). */
  readonly exited: Promise<number>;
  /** Kills the child (SIGKILL) if it still runs. */
  kill(): void;
}

/** Blanks the password of connection strings (`postgres://user:secret@…`) in `text`. */
export function redactUrl(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@')
    .replace(/(password=)\S+/gi, '$1***');
}

/** A libpq password file line matching any server: `:` and `\` escaped. */
const passLine = (password: string) => `*:*:*:*:${password.replace(/([\\:])/g, '\\$1')}\n`;

/**
 * Starts a PostgreSQL tool (`pg_dump`, `pg_restore`, `psql`) with `args` and `--dbname` for
 * `db`. A password goes into a password file of mode 0600, named by the URL's `passfile`
 * parameter and removed when the tool exits: never into its arguments (where any user sees it
 * in the process list) nor its environment. The tool inherits the process's environment.
 */
export function startTool(
  command: string,
  args: readonly string[],
  db: { url: string; password: string | undefined },
): Child {
  let url = db.url;
  let dir: string | undefined;
  if (db.password !== undefined) {
    dir = mkdtempSync(join(tmpdir(), 'org-backup-'));
    const file = join(dir, 'pgpass');
    writeFileSync(file, passLine(db.password), { mode: 0o600 });
    url += `${url.includes('?') ? '&' : '?'}passfile=${encodeURIComponent(file)}`;
  }
  const child = startChild(command, [...args, '--no-password', `--dbname=${url}`]);
  if (dir !== undefined) {
    const remove = () => rmSync(dir, { recursive: true, force: true });
    void child.exited.then(remove, remove);
  }
  return child;
}

/** Starts `command` with `args`, inheriting the process's environment. */
export function startChild(command: string, args: readonly string[]): Child {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = Buffer.alloc(0);
  proc.stderr!.on('data', (chunk: Buffer) => {
    err = Buffer.concat([err, chunk]);
    if (err.length > STDERR_LIMIT) err = err.subarray(err.length - STDERR_LIMIT);
  });
  const exited = new Promise<number>((resolve) => {
    proc.once('error', (e) => {
      err = Buffer.concat([err, Buffer.from(`\n${command}: ${e.message}`)]);
      resolve(-1);
    });
    proc.once('close', (code) => resolve(code ?? -1));
  });
  // The child's pipes fail with EPIPE when it exits early; the exit code says why.
  proc.stdin!.on('error', () => {});
  return {
    process: proc,
    stdout: proc.stdout!,
    stdin: proc.stdin!,
    stderr: () => redactUrl(err.toString('utf8').trim()),
    exited,
    kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/** Runs `command` to its end and returns its stdout (for `pg_dump --version`). */
export function runCommand(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 10_000 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout.trim());
    });
  });
}

/** An error's message with its causes (`put failed: connection reset`), passwords blanked. */
export function explain(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const text = e instanceof Error ? e.message || e.name : String(e);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    e = e instanceof Error ? e.cause : undefined;
  }
  const out = redactUrl(parts.join(': '));
  return out.length > 500 ? `${out.slice(0, 499)}…` : out;
}
