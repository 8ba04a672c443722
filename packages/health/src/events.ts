import { channel } from 'node:diagnostics_channel';
import type { CheckStatus, HealthReport, HealthStatus } from './types.js';

/** Where the service is in its life: probes answer from this. */
export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

/** The typed events of a Health instance. */
export interface HealthEvents {
  /** A quick or full run finished (not emitted for answers served from the cache). */
  report: { kind: 'quick' | 'full'; report: HealthReport };
  /**
   * A check's status differs from its previous run (quick and full runs both count); the
   * first run of a check reports `from: undefined`. For alerts: listen here, not to `report`.
   */
  checkChange: { check: string; from: CheckStatus | undefined; to: CheckStatus; reason?: string };
  /** The overall status of `quick` or `full` differs from its previous run. */
  statusChange: { kind: 'quick' | 'full'; from: HealthStatus | undefined; to: HealthStatus };
  /** The lifecycle moved: `starting` → `ready` → `draining` → `stopped`. */
  state: { from: LifecycleState; to: LifecycleState };
  /** Draining hit its bound, or a closer threw; shutdown goes on regardless. */
  shutdownError: { phase: 'drain' | 'closer'; reason: string };
}

/** `node:diagnostics_channel` name on which every fresh report is published. */
export const REPORT_CHANNEL = 'org.health.report';

export type Listener<E extends keyof HealthEvents> = (payload: HealthEvents[E]) => void;

/** A tiny typed emitter; a listener that throws never breaks the emitter. */
export function createEmitter() {
  const listeners = new Map<keyof HealthEvents, Set<(p: never) => void>>();
  const reportChannel = channel(REPORT_CHANNEL);
  return {
    on<E extends keyof HealthEvents>(event: E, fn: Listener<E>): () => void {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(fn as (p: never) => void);
      return () => void set.delete(fn as (p: never) => void);
    },
    emit<E extends keyof HealthEvents>(event: E, payload: HealthEvents[E]): void {
      if (event === 'report' && reportChannel.hasSubscribers) reportChannel.publish(payload);
      for (const fn of listeners.get(event) ?? []) {
        try {
          (fn as Listener<E>)(payload);
        } catch {
          // A listener's bug must not turn a health report into a failure.
        }
      }
    },
  };
}

export type Emitter = ReturnType<typeof createEmitter>;
