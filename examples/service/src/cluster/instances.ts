import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ClusterError, ClusterErrorCode } from './errors.js';

/** How an instance ended. */
export interface InstanceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One instance of the service, a child process of the cluster script. */
export interface Instance {
  readonly id: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles when the process has exited. */
  readonly exited: Promise<InstanceExit>;
  /** Whether it is still running. */
  running(): boolean;
}

/** Options of {@link startInstance}. */
export interface StartInstanceOptions {
  id: string;
  port: number;
  /** The service's entry (`src/main.ts`). */
  entry: string;
  /** Node's flags for it: those the cluster script was started with (tsx's loader among them). */
  execArgv: readonly string[];
  /** The instance's environment (`PORT` and `INSTANCE_ID` are set from `port` and `id`). */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Each line it writes, with the stream it came on. */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Milliseconds it has to answer `GET /readyz` with 200. */
  startTimeout: number;
}

/**
 * Starts one instance (`node <execArgv> src/main.ts`) and resolves once its `/readyz` answers
 * 200; rejects with `ERR_CLUSTER_START_FAILED` when it exits first or stays unready past
 * `startTimeout` (it is then killed). The child runs in a process group of its own, so a Ctrl-C
 * in the terminal reaches the cluster script only, which passes it on once (a second signal
 * stops the service at once), and holds an IPC channel to the script: if the script is killed,
 * the instance shuts itself down (src/main.ts).
 */
export async function startInstance(options: StartInstanceOptions): Promise<Instance> {
  const { id, port } = options;
  const child = spawn(process.execPath, [...options.execArgv, options.entry], {
    cwd: options.cwd,
    env: { ...options.env, PORT: String(port), INSTANCE_ID: id },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  // The channel must not keep the script alive on its own.
  child.channel?.unref();
  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (source) createInterface({ input: source }).on('line', (l) => options.onLine(l, stream));
  }
  const exited = new Promise<InstanceExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const instance: Instance = { id, port, pid: child.pid ?? 0, child, exited, running };
  let gone: InstanceExit | undefined;
  void exited.then((e) => {
    gone = e;
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + options.startTimeout;
  while (Date.now() < deadline) {
    if (gone) {
      throw new ClusterError(
        ClusterErrorCode.StartFailed,
        `instance ${id} exited (${gone.signal ?? `code ${gone.code}`}) before it was ready; its output is above`,
      );
    }
    const ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1_000) })
      .then(async (res) => {
        await res.body?.cancel();
        // Its own answer, not that of something else already on the port.
        return res.ok && res.headers.get('x-instance') === id;
      })
      .catch(() => false);
    if (ready) return instance;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (running()) child.kill('SIGKILL');
  throw new ClusterError(
    ClusterErrorCode.StartFailed,
    `instance ${id} did not answer ${base}/readyz within ${options.startTimeout} ms`,
  );
}
