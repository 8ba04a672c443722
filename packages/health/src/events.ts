import type { CheckStatus, HealthReport, HealthStatus } from './types.js';

/** Where the service is in its life: probes answer from this. */
export type LifecycleState = 'starting' | 'ready' | 'draining' | 'stopped';

/**
 * The events of a Health instance, each with its one payload object. Each is also published on
 * the `node:diagnostics_channel` named `org:health:<event>` (`org:health:report`,
 * `org:health:checkChange` …).
 */
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
  /** Draining hit its bound, or a closer threw or timed out; shutdown goes on regardless. */
  shutdownError: { phase: 'drain' | 'closer'; reason: string };
}
