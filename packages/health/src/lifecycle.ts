import type { Server } from 'node:http';
import type { Emitter, LifecycleState } from './events.js';
import { safeReason } from './redact.js';

/** Options of graceful shutdown, as terminus and lightship do it. */
export interface ShutdownOptions {
  /**
   * Handle these signals by calling `shutdown()` and then exiting: `true` means SIGTERM and
   * SIGINT. Opt-in, because a library must not take over a process's signals unasked.
   * @default false
   */
  handleSignals?: boolean | readonly NodeJS.Signals[];
  /**
   * After a handled signal and a finished shutdown, call `process.exit()` (code 1 when a closer
   * failed or draining hit its bound, else 0). @default true
   */
  exitOnSignal?: boolean;
  /**
   * How long readiness fails before attached servers stop accepting, in ms, so that load
   * balancers and Kubernetes endpoints notice and stop sending traffic. @default 5000
   */
  beforeShutdownMs?: number;
  /**
   * How long in-flight requests may take to finish once servers stop accepting, in ms; then the
   * remaining connections are destroyed. @default 10000
   */
  drainTimeoutMs?: number;
  /** How long each `onShutdown` closer may take, in ms. @default 5000 */
  closerTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Closes one server: stop accepting, close idle keep-alive sockets, force after `timeoutMs`. */
async function drain(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((r) => server.close(() => r()));
  // Keep-alive sockets become idle once their in-flight response is written; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  const done = await Promise.race([closed.then(() => true as const), timedOut]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (!done) {
    server.closeAllConnections();
    await closed;
  }
  return done;
}

async function bounded(fn: () => unknown, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(fn),
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`closer took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The lifecycle behind liveness, readiness, startup and graceful shutdown. */
export function createLifecycle(options: ShutdownOptions & { ready: boolean }, events: Emitter) {
  let state: LifecycleState = options.ready ? 'ready' : 'starting';
  const servers = new Set<Server>();
  const closers: (() => unknown)[] = [];
  let shutdownPromise: Promise<boolean> | undefined;
  const signalHandlers: [NodeJS.Signals, () => void][] = [];

  const move = (to: LifecycleState) => {
    const from = state;
    if (from === to) return;
    state = to;
    events.emit('state', { from, to });
  };

  async function run(): Promise<boolean> {
    let clean = true;
    move('draining');
    await sleep(options.beforeShutdownMs ?? 5_000);
    const drainMs = options.drainTimeoutMs ?? 10_000;
    const drained = await Promise.all([...servers].map((s) => drain(s, drainMs)));
    if (drained.includes(false)) {
      clean = false;
      events.emit('shutdownError', {
        phase: 'drain',
        reason: `in-flight requests outlived drainTimeoutMs (${drainMs} ms); their connections were closed`,
      });
    }
    for (const fn of closers) {
      try {
        await bounded(fn, options.closerTimeoutMs ?? 5_000);
      } catch (err) {
        clean = false;
        events.emit('shutdownError', { phase: 'closer', reason: safeReason(err) });
      }
    }
    move('stopped');
    return clean;
  }

  const lifecycle = {
    get state() {
      return state;
    },
    markReady() {
      if (state === 'starting') move('ready');
    },
    attach(server: Server): () => void {
      servers.add(server);
      return () => void servers.delete(server);
    },
    onShutdown(fn: () => unknown): () => void {
      closers.push(fn);
      return () => {
        const i = closers.indexOf(fn);
        if (i !== -1) closers.splice(i, 1);
      };
    },
    /** Runs shutdown once; later calls share the first run. Resolves true when all went clean. */
    shutdown(): Promise<boolean> {
      shutdownPromise ??= run();
      return shutdownPromise;
    },
    /** Removes the signal handlers installed by `handleSignals`. */
    dispose() {
      for (const [sig, fn] of signalHandlers) process.removeListener(sig, fn);
      signalHandlers.length = 0;
    },
  };

  if (options.handleSignals) {
    const sigs: readonly NodeJS.Signals[] =
      options.handleSignals === true ? ['SIGTERM', 'SIGINT'] : options.handleSignals;
    for (const sig of sigs) {
      const fn = () => {
        void lifecycle.shutdown().then((clean) => {
          if (options.exitOnSignal ?? true) process.exit(clean ? 0 : 1);
        });
      };
      process.once(sig, fn);
      signalHandlers.push([sig, fn]);
    }
  }
  return lifecycle;
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
