import type { HealthReport } from '@org/health';

/** One state change of a breaker, as its `stateChange` event told it. */
export interface Transition {
  from: string;
  to: string;
  /** When it happened, ms since the epoch. */
  at: number;
}

/** What a breaker that can be watched offers (an @org/resilience breaker does). */
export interface WatchableBreaker {
  readonly name: string;
  on(
    event: 'stateChange',
    listener: (e: { name: string; from: string; to: string }) => void,
  ): () => void;
}

/** A key of the ring as the status page shows it: no key material, only its state. */
export interface KeyState {
  kid: string;
  alg: string;
  status: string;
  createdAt: string;
  activatedAt: string | null;
  verifyUntil: string | null;
}

/** The backup trigger's last run as the status page shows it: no token, no result. */
export interface BackupState {
  enabled: boolean;
  last: {
    runId: string;
    status: 'running' | 'succeeded' | 'failed';
    target?: string;
    startedAt: string;
    finishedAt?: string;
    durationMs?: number;
    /** The failed run's error code. */
    error?: string;
  } | null;
}

/** How many transitions a breaker's timeline keeps. */
export const TIMELINE_LENGTH = 50;

/**
 * What the features hand the status page besides the metrics: breaker transitions (from
 * @org/resilience's events: a metric carries no timeline), the health report, the key ring and
 * the backup trigger's last run (from their APIs). Every count and ratio is read from the
 * OpenTelemetry metrics the packages record (`src/status/metrics.ts`).
 */
export interface StatusBoard {
  /** Keeps the last {@link TIMELINE_LENGTH} transitions of `breaker`; returns the unsubscribe. */
  watchBreaker(breaker: WatchableBreaker): () => void;
  /** The transitions of the breaker named `name`, oldest first. */
  timeline(name: string): readonly Transition[];
  health?: (() => Promise<HealthReport>) | undefined;
  keys?: (() => KeyState[]) | undefined;
  /** The backup trigger: whether it is on, and its last run (the backup feature). */
  backup?: (() => BackupState) | undefined;
  /** Whether `POST /upstream/chaos` is mounted (never in production). */
  chaos: boolean;
}

export function createStatusBoard(): StatusBoard {
  const timelines = new Map<string, Transition[]>();
  return {
    watchBreaker(breaker) {
      return breaker.on('stateChange', ({ name, from, to }) => {
        const list = timelines.get(name) ?? [];
        list.push({ from, to, at: Date.now() });
        if (list.length > TIMELINE_LENGTH) list.splice(0, list.length - TIMELINE_LENGTH);
        timelines.set(name, list);
      });
    },
    timeline: (name) => timelines.get(name) ?? [],
    chaos: false,
  };
}
