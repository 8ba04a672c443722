import type { Server } from 'node:http';
import { abortable, type Duration, type Emitter, sleep, withTimeout } from '@org/core';
import { check, invalidOption } from './errors.js';
import type { HealthEvents, LifecycleState } from './events.js';
import { safeReason } from './redact.js';

/** Options of graceful shutdown, as terminus and lightship do it. */
export interface ShutdownOptions {
  /**
   * Handle these signals by calling `shutdown()` and then exiting: `true` means SIGTERM and
   * SIGINT. Opt-in, because a library must not take over a process's signals unasked.
   * @default false
   */
  handleSignals?: boolean | readonly NodeJS.Signals[] | undefined;
  /**
   * After a handled signal and a finished shutdown, call `process.exit()` (code 1 when a closer
   * failed or draining hit its bound, else 0). @default true
   */
  exitOnSignal?: boolean | undefined;
  /**
   * How long readiness fails before attached servers stop accepting, so that load balancers and
   * Kubernetes endpoints notice and stop sending traffic: milliseconds, or a string with a unit
   * (`'5s'`). @default '5s'
   */
  shutdownDelay?: Duration | undefined;
  /**
   * How long in-flight requests may take to finish once servers stop accepting; then the
   * remaining connections are destroyed. @default '10s'
   */
  drainTimeout?: Duration | undefined;
  /** How long each `onShutdown` closer may take; its signal aborts then. @default '5s' */
  closerTimeout?: Duration | undefined;
}

/** A closer run by graceful shutdown; its signal aborts at `closerTimeout`. */
export type Closer = (signal: AbortSignal) => unknown;

/** Closes one server: stop accepting, close idle keep-alive sockets, force after `timeoutMs`. */
async function drain(server: Server, timeoutMs: number): Promise<boolean> {
  if (!server.listening) return true;
  const closed = new Promise<void>((r) => server.close(() => r()));
  // Keep-alive sockets become idle once their in-flight response is written; close them as they do.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  const done = await withTimeout(() => closed, { timeoutMs, what: 'Draining a server' }).then(
    () => true,
    () => false,
  );
  clearInterval(sweep);
  if (!done) {
    server.closeAllConnections();
    await closed;
  }
  return done;
}

function signalList(value: ShutdownOptions['handleSignals']): readonly NodeJS.Signals[] {
  if (value === undefined || value === false) return [];
  if (value === true) return ['SIGTERM', 'SIGINT'];
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || !s.startsWith('SIG'))) {
    throw invalidOption(
      '`handleSignals` must be true, false or a list of signal names such as ["SIGTERM"]',
    );
  }
  return value;
}

/** The lifecycle behind liveness, readiness, startup and graceful shutdown. */
export function createLifecycle(
  options: ShutdownOptions & { ready: boolean },
  events: Emitter<HealthEvents>,
) {
  const shutdownDelayMs = check.duration(options.shutdownDelay, 'shutdownDelay', '5s');
  const drainTimeoutMs = check.duration(options.drainTimeout, 'drainTimeout', '10s');
  const closerTimeoutMs = check.duration(options.closerTimeout, 'closerTimeout', '5s', { min: 1 });
  const exitOnSignal = check.boolean(options.exitOnSignal, 'exitOnSignal', true);
  const signals = signalList(options.handleSignals);

  let state: LifecycleState = options.ready ? 'ready' : 'starting';
  const servers = new Set<Server>();
  const closers: Closer[] = [];
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
    await sleep(shutdownDelayMs);
    const drained = await Promise.all([...servers].map((s) => drain(s, drainTimeoutMs)));
    if (drained.includes(false)) {
      clean = false;
      events.emit('shutdownError', {
        phase: 'drain',
        reason: `in-flight requests outlived drainTimeout (${drainTimeoutMs} ms); their connections were closed`,
      });
    }
    for (const fn of closers) {
      try {
        await withTimeout(fn, {
          timeoutMs: closerTimeoutMs,
          what: 'An onShutdown closer',
          hint: 'raise `closerTimeout` if it is legitimately slower',
        });
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
    onShutdown(fn: Closer): () => void {
      if (typeof fn !== 'function') throw invalidOption('onShutdown(fn): fn must be a function');
      closers.push(fn);
      return () => {
        const i = closers.indexOf(fn);
        if (i !== -1) closers.splice(i, 1);
      };
    },
    /**
     * Runs shutdown once; later calls share the first run. Resolves true when all went clean.
     * `signal` stops this caller's wait only (shutdown goes on).
     */
    shutdown(opts: { signal?: AbortSignal | undefined } = {}): Promise<boolean> {
      shutdownPromise ??= run();
      return abortable(shutdownPromise, opts.signal, 'Waiting for the graceful shutdown');
    },
    /** Removes the signal handlers installed by `handleSignals`. */
    releaseSignals() {
      for (const [sig, fn] of signalHandlers) process.removeListener(sig, fn);
      signalHandlers.length = 0;
    },
  };

  for (const sig of signals) {
    const fn = () => {
      void lifecycle.shutdown().then((clean) => {
        if (exitOnSignal) process.exit(clean ? 0 : 1);
      });
    };
    process.once(sig, fn);
    signalHandlers.push([sig, fn]);
  }
  return lifecycle;
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
