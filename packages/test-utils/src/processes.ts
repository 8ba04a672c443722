import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { canConnect, freePort, waitFor } from './net.js';

/** Whether `cmd` can be found on PATH. */
export function hasCommand(cmd: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', `command -v ${cmd}`], (err) => resolve(err === null));
  });
}

/** A server process this suite owns: unlike the machine's shared servers, it may be stopped. */
export interface OwnedServer {
  readonly port: number;
  readonly process: ChildProcess;
  /** Freezes the process (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
  /** Kills it at once (SIGKILL) and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Ends it for good. */
  stop(): Promise<void>;
}

function ownServer(
  name: string,
  port: number,
  launch: () => ChildProcess,
  ready: () => Promise<boolean>,
): Promise<OwnedServer> {
  let proc = launch();
  const exited = (p: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
    });
  const server: OwnedServer = {
    port,
    get process() {
      return proc;
    },
    pause: () => void proc.kill('SIGSTOP'),
    resume: () => void proc.kill('SIGCONT'),
    async kill() {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      await exited(proc);
    },
    async restart() {
      await server.kill();
      proc = launch();
      await waitFor(name, ready);
    },
    async stop() {
      await server.kill();
    },
  };
  return waitFor(name, ready).then(() => server);
}

/** Starts a `redis-server` of the suite's own on a free loopback port, persisting nothing. */
export async function startRedisServer(): Promise<OwnedServer & { url: string }> {
  const port = await freePort();
  const srv = await ownServer(
    'redis-server',
    port,
    () =>
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      ),
    () => canConnect(port),
  );
  return Object.assign(srv, { url: `redis://127.0.0.1:${port}` });
}

/**
 * Starts `moto_server` (S3, Secrets Manager and more) on a free loopback port. `env` is added to
 * its environment: moto spills every object over 5 MiB to a file in `TMPDIR`, so a benchmark
 * moving hundreds of MiB points it at a tmpfs, where disk writeback cannot stall one run at random.
 */
export async function startMotoServer(
  options: { env?: Record<string, string> } = {},
): Promise<OwnedServer & { endpoint: string }> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const srv = await ownServer(
    'moto_server',
    port,
    () =>
      spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
        stdio: 'ignore',
        env: { ...process.env, ...options.env },
      }),
    async () => {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return res.ok;
    },
  );
  return Object.assign(srv, { endpoint });
}
