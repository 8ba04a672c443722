import { ErrorCodes, KeyRingError } from './errors.js';
import { createEmitter } from './events.js';
import type { KeyRing } from './key-ring-types.js';

const DAY = 86_400_000;

/** Options of {@link createRotationSchedule}. */
export interface RotationScheduleOptions {
  /** Days between rotations (fractions allowed). */
  everyDays: number;
  /**
   * Ms before each rotation that the next key is staged, so that JWKS caches (see the
   * handler's `maxAge` and verifiers' `cacheTtl`) know it before it signs.
   * @default 86400000 (1 day), at most half of the interval
   */
  stageAhead?: number;
  /** Ms between checks once `start()`ed (an unref'd timer). @default 3600000 (1 h) */
  checkInterval?: number;
  /** Current time in ms; use the ring's clock. @default Date.now */
  clock?: () => number;
}

/** What is due now. */
export type ScheduleAction = 'stage' | 'rotate';

/** Events of a schedule. */
export interface RotationScheduleEvents extends Record<string, unknown> {
  stage: { kid: string };
  rotate: { kid: string };
  error: { error: Error };
}

/** A rotation schedule; see {@link createRotationSchedule}. */
export interface RotationSchedule {
  /** What this instance's view says is due (for a cron job or a health page). */
  due(): ScheduleAction | undefined;
  /**
   * Does what is due, checked again against the shared store, so that many instances (or cron
   * runs) rotate once. Resolves to what this call did (undefined if nothing, or if another
   * instance did it first).
   */
  run(): Promise<ScheduleAction | undefined>;
  /** Runs `run()` every `checkInterval` on an unref'd timer; returns `stop`. */
  start(): () => void;
  stop(): void;
  on<E extends keyof RotationScheduleEvents>(
    event: E,
    listener: (payload: RotationScheduleEvents[E]) => void,
  ): () => void;
}

/** Rotates `ring` every `everyDays` days, staging the next key `stageAhead` ms before. */
export function createRotationSchedule(
  ring: KeyRing,
  options: RotationScheduleOptions,
): RotationSchedule {
  if (!(options.everyDays > 0)) {
    throw new KeyRingError(ErrorCodes.OPTIONS, 'everyDays must be a number of days > 0');
  }
  const interval = options.everyDays * DAY;
  const stageAhead = Math.min(options.stageAhead ?? DAY, interval / 2);
  const checkInterval = options.checkInterval ?? 3_600_000;
  const clock = options.clock ?? Date.now;
  const events = createEmitter<RotationScheduleEvents>();
  let timer: NodeJS.Timeout | undefined;

  function due(): ScheduleAction | undefined {
    const keys = ring.keys();
    const active = keys.find((k) => k.status === 'active');
    if (!active) return 'rotate';
    const age = clock() - (active.activatedAt ?? active.createdAt).getTime();
    if (age >= interval) return 'rotate';
    if (age >= interval - stageAhead && !keys.some((k) => k.status === 'pending')) return 'stage';
    return undefined;
  }

  async function run(): Promise<ScheduleAction | undefined> {
    await ring.refresh();
    const action = due();
    if (action === undefined) return undefined;
    // Only what this ring itself did counts: another instance may have done it a moment ago.
    let done: string | undefined;
    const off = ring.on(action, (e) => {
      done = e.kid;
    });
    try {
      if (action === 'stage') await ring.stage({ ifNonePending: true });
      else await ring.rotate({ ifActiveOlderThan: interval });
    } finally {
      off();
    }
    if (done === undefined) return undefined;
    events.emit(action, { kid: done });
    return action;
  }

  const schedule: RotationSchedule = {
    due,
    run,
    start() {
      if (!timer) {
        timer = setInterval(() => {
          run().catch((error: Error) => events.emit('error', { error }));
        }, checkInterval).unref();
      }
      return () => schedule.stop();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    on: (event, listener) => events.on(event, listener),
  };
  return schedule;
}
