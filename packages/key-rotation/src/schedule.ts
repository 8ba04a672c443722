import { type Clock, type Duration, Emitter, type Events, throwIfAborted } from '@org/core';
import { check, invalidOption } from './errors.js';
import type { KeyRing } from './key-ring-types.js';
import { clockOption } from './time-options.js';

/** Options of {@link createRotationSchedule}. Durations are core `Duration`s. */
export interface RotationScheduleOptions {
  /** Time between rotations: `'30d'`, `'12h'`, or milliseconds. */
  interval: Duration;
  /**
   * How long before each rotation the next key is staged, so that JWKS caches (see the handler's
   * `maxAge` and verifiers' `cacheTtl`) know it before it signs. At most half the interval.
   * @default '1d'
   */
  stageAhead?: Duration | undefined;
  /** Time between checks once `start()`ed (an unref'd timer). @default '1h' */
  checkInterval?: Duration | undefined;
  /** The time source; use the ring's. @default systemClock */
  clock?: Clock | undefined;
}

/** What is due now. */
export type ScheduleAction = 'stage' | 'rotate';

/** Options of one {@link RotationSchedule.run} call. */
export interface ScheduleRunOptions {
  /**
   * Abandons the run (a graceful shutdown): the call rejects at once with core's `AbortedError`
   * (`ERR_ABORTED`, the signal's reason as `cause`) and the store calls under way stop waiting.
   * A write the store had already accepted stands; the ring picks it up on its next refresh.
   * @default none (each store call is still bounded by the ring's `storeTimeout`)
   */
  signal?: AbortSignal | undefined;
}

/**
 * Events of a schedule, each also published on `org:key-rotation:<event>`. They are named apart
 * from the ring's `stage` and `rotate` (which fire for the same change), so that a subscriber of
 * the ring's channels counts each rotation once.
 */
export type RotationScheduleEvents = {
  /** This schedule staged the next key. */
  'schedule-stage': { kid: string };
  /** This schedule rotated: `kid` signs from now on. */
  'schedule-rotate': { kid: string };
  /** A run started by `start()`'s timer failed; the next check tries again. */
  'schedule-error': { error: Error };
};

/** A rotation schedule; see {@link createRotationSchedule}. */
export interface RotationSchedule extends Events<RotationScheduleEvents> {
  /** What this instance's view says is due (for a cron job or a health page). */
  due(): ScheduleAction | undefined;
  /**
   * Does what is due, checked again against the shared store, so that many instances (or cron
   * runs) rotate once. Resolves to what this call did (undefined if nothing, or if another
   * instance did it first). An aborted `signal` rejects with core's `AbortedError`.
   */
  run(options?: ScheduleRunOptions): Promise<ScheduleAction | undefined>;
  /** Runs `run()` every `checkInterval` on an unref'd timer, until `close()`. Returns the schedule. */
  start(): RotationSchedule;
  /**
   * Stops the timer of `start()` and ends a run it started: the run stops waiting on the store at
   * once (a write the store already accepted stands). Idempotent; the ring stays open (it is
   * yours). A `run()` you called yourself is yours to end, with its `signal`.
   */
  close(): Promise<void>;
}

/** Rotates `ring` every `interval`, staging the next key `stageAhead` before. */
export function createRotationSchedule(
  ring: KeyRing,
  options: RotationScheduleOptions,
): RotationSchedule {
  const opts = check.object(options, 'options');
  const interval = check.duration(opts.interval, 'interval', undefined, { min: 1 });
  if (interval === undefined) {
    throw invalidOption("`interval` is required: the time between rotations, such as '30d'");
  }
  const every: number = interval;
  const stageAhead = Math.min(check.duration(opts.stageAhead, 'stageAhead', '1d'), every / 2);
  const checkInterval = check.duration(opts.checkInterval, 'checkInterval', '1h', { min: 1 });
  const clock = clockOption(opts.clock);
  const events = new Emitter<RotationScheduleEvents>('key-rotation');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  function due(): ScheduleAction | undefined {
    const keys = ring.keys();
    const active = keys.find((k) => k.status === 'active');
    if (!active) return 'rotate';
    const age = clock.now() - (active.activatedAt ?? active.createdAt).getTime();
    if (age >= every) return 'rotate';
    if (age >= every - stageAhead && !keys.some((k) => k.status === 'pending')) return 'stage';
    return undefined;
  }

  async function run(runOptions?: ScheduleRunOptions): Promise<ScheduleAction | undefined> {
    const signal = signalOption(runOptions);
    throwIfAborted(signal, 'The rotation');
    await ring.refresh({ signal });
    const action = due();
    if (action === undefined) return undefined;
    // Only what this ring itself did counts: another instance may have done it a moment ago.
    let done: string | undefined;
    const off = ring.on(action, (e) => {
      done = e.kid;
    });
    try {
      if (action === 'stage') await ring.stage({ ifNonePending: true, signal });
      else await ring.rotate({ ifActiveOlderThan: every, signal });
    } finally {
      off();
    }
    if (done === undefined) return undefined;
    events.emit(action === 'stage' ? 'schedule-stage' : 'schedule-rotate', { kid: done });
    return action;
  }

  // Aborted by close(), so that a shutdown never waits on a hung store for a timer's run.
  let lifetime = new AbortController();

  const tick = () => {
    if (running) return; // a slow store: never two runs at once
    const { signal } = lifetime;
    running = run({ signal })
      .catch((error: Error) => {
        if (!signal.aborted) events.emit('schedule-error', { error });
      })
      .finally(() => {
        running = undefined;
      });
  };

  const schedule: RotationSchedule = {
    due,
    run: (runOptions) => run(runOptions),
    start() {
      timer ??= setInterval(tick, checkInterval).unref();
      return schedule;
    },
    async close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (running) lifetime.abort();
      await running;
      // A later start() runs again, with a fresh signal.
      if (lifetime.signal.aborted) lifetime = new AbortController();
    },
    on: (event, listener) => events.on(event, listener),
    once: (event, listener) => events.once(event, listener),
  };
  return schedule;
}

/** The `signal` of `run()`'s options, checked. */
function signalOption(options: ScheduleRunOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const { signal } = check.object(options, 'options') as ScheduleRunOptions;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidOption('`signal` must be an AbortSignal');
  }
  return signal;
}
