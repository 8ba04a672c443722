import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@org/test-utils';
import { spawnSource } from './spawn-service.js';

/** One instance the cluster script started, as its `[cluster] <id> on <url> (pid <n>)` line says. */
export interface ClusterInstance {
  readonly id: string;
  readonly base: string;
  readonly pid: number;
}

/** `src/cluster.ts` running as a child process: its proxy and its instances. */
export interface ClusterProcess {
  readonly child: ChildProcess;
  /** The proxy: `http://127.0.0.1:<PORT>`. */
  readonly base: string;
  readonly instances: readonly ClusterInstance[];
  /** Settles when the script has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it (and its instances, through it) wrote so far. */
  output(): string;
  /** Kills the script and every instance (SIGKILL) if still running; removes the storage root. */
  kill(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether process `pid` is still running. */
export const isRunning = alive;

/**
 * Starts the cluster script (`INSTANCES` = `count`) on free ports with `env` added to a bare
 * environment, and resolves once it prints `[cluster] ready`.
 */
export async function spawnCluster(
  env: Record<string, string>,
  count = 3,
  timeoutMs = 45_000,
): Promise<ClusterProcess> {
  const ports = await Promise.all(Array.from({ length: count + 1 }, () => freePort()));
  const root = mkdtempSync(join(tmpdir(), 'example-service-cluster-'));
  const { child, exited, output } = spawnSource('src/cluster.ts', {
    PORT: String(ports[0]),
    INSTANCE_PORTS: ports.slice(1).join(','),
    STORAGE_ROOT: root,
    ...env,
  });
  const instances = (): ClusterInstance[] =>
    [
      ...output().matchAll(/^\[cluster\] (\S+) on (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)\)$/gm),
    ].map((m) => ({ id: m[1]!, base: m[2]!, pid: Number(m[3]) }));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    // Its instances run in process groups of their own: a killed script does not take them.
    for (const { pid } of instances()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "[cluster] ready" line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        if (!/^\[cluster\] ready:/m.test(output())) return;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        resolve();
      };
      child.stdout?.on('data', check);
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`the cluster script exited (code ${code}) before it was ready`));
      });
    });
  } catch (err) {
    await kill();
    throw new Error(`${(err as Error).message}\n${output()}`);
  }
  return {
    child,
    base: `http://127.0.0.1:${ports[0]}`,
    instances: instances(),
    exited,
    output,
    kill,
  };
}
