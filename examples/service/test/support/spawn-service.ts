import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '@org/test-utils';

const serviceDir = join(import.meta.dirname, '..', '..');

/** The example service running as a child process (`src/main.ts`, @org/* from source). */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly base: string;
  /** Settles when the process has exited, with its code or signal and when it happened. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** The process's peak resident set (VmHWM), in bytes; Linux only. */
  peakRss(): number;
  /** Kills it (SIGKILL) if still running and removes its storage root. */
  stop(): Promise<void>;
}

/**
 * Runs `entry` of the service (`src/main.ts`, `src/cluster.ts`) with @org/* from source, in a bare
 * environment plus `env`, collecting what it writes to stdout and stderr.
 */
export function spawnSource(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=@org/source', '--import', 'tsx', entry], {
    cwd: serviceDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return { child, exited, output: () => out };
}

/** Starts `src/main.ts` on a free loopback port and waits until it answers `GET /livez`. */
export async function spawnService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'example-service-child-'));
  const { child, exited, output } = spawnSource('src/main.ts', {
    PORT: String(port),
    STORAGE_ROOT: root,
    ...env,
  });
  const base = `http://127.0.0.1:${port}`;
  const pid = child.pid ?? 0;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitFor(
        'the example service',
        async () => (await fetch(`${base}/livez`, { signal: AbortSignal.timeout(1_000) })).ok,
        30_000,
      ),
      exited.then(({ code }) => {
        throw new Error(`it exited with code ${code}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`the example service did not start: ${(err as Error).message}\n${output()}`);
  }
  return {
    child,
    pid,
    base,
    exited,
    output,
    peakRss() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
      if (kb === undefined) throw new Error('no VmHWM in /proc/<pid>/status');
      return Number(kb) * 1024;
    },
    stop,
  };
}
