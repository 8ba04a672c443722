import type { Clock } from '@org/core';

/** What a breaker is doing now. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/** A breaker's state as plain data: what `toJSON()` returns and `initialState` accepts. */
export interface BreakerSnapshot {
  state: BreakerState;
  /** When the open period ends and probes may go through, in ms since the epoch. */
  openUntil?: number;
  /** Consecutive trips without a close in between; lengthens the open period. */
  trips: number;
  /** Failures since the last success. */
  consecutiveFailures: number;
}

/** The numbers the machine decides with (all validated by the breaker; durations in ms). */
export interface CircuitRules {
  failureThreshold: number | undefined;
  errorThresholdPercentage: number | undefined;
  volumeThreshold: number;
  resetTimeout: number;
  maxResetTimeout: number;
  resetBackoffFactor: number;
  halfOpenProbes: number;
  successThreshold: number;
}

/** Admission of one call: run it, run it as a half-open probe, or reject it. */
export type Admission =
  | { kind: 'call' }
  | { kind: 'probe' }
  | { kind: 'reject'; retryAfterMs: number | undefined };

const CALL: Admission = { kind: 'call' };
const PROBE: Admission = { kind: 'probe' };

/**
 * The breaker's state machine, driven by the clock rather than timers: an open breaker becomes
 * half-open when it is next looked at after `openUntil`, so it behaves the same in a serverless
 * function frozen between requests, and leaves nothing scheduled behind it.
 */
export class CircuitState {
  private phase: 'closed' | 'open' = 'closed';
  private openUntil = 0;
  private trips = 0;
  private consecutive = 0;
  private probesInFlight = 0;
  private probeSuccesses = 0;

  constructor(
    private readonly rules: CircuitRules,
    private readonly clock: Clock,
    initial?: BreakerSnapshot,
  ) {
    if (initial) this.restore(initial);
  }

  get state(): BreakerState {
    if (this.phase === 'closed') return 'closed';
    return this.clock.now() >= this.openUntil ? 'halfOpen' : 'open';
  }

  get consecutiveFailures(): number {
    return this.consecutive;
  }

  get tripCount(): number {
    return this.trips;
  }

  get openUntilMs(): number | undefined {
    return this.phase === 'open' ? this.openUntil : undefined;
  }

  admit(): Admission {
    if (this.phase === 'closed') return CALL;
    const now = this.clock.now();
    if (now < this.openUntil) return { kind: 'reject', retryAfterMs: this.openUntil - now };
    if (this.probesInFlight >= this.rules.halfOpenProbes)
      return { kind: 'reject', retryAfterMs: undefined };
    this.probesInFlight++;
    return PROBE;
  }

  /** Gives back a probe slot that was admitted but not used (e.g. another instance probes). */
  cancelProbe(): void {
    if (this.probesInFlight > 0) this.probesInFlight--;
  }

  /** Records a success; returns true when it closed the breaker. */
  success(probe: boolean): boolean {
    this.consecutive = 0;
    if (!probe || this.phase !== 'open') return false;
    this.probesInFlight = Math.max(0, this.probesInFlight - 1);
    this.probeSuccesses++;
    if (this.probeSuccesses < this.rules.successThreshold) return false;
    this.close();
    return true;
  }

  /**
   * Records a failure; returns true when it opened the breaker. `windowRate` gives the rolling
   * window's fires and failures, read only when the percentage rule needs them.
   */
  failure(probe: boolean, windowRate: () => { fires: number; failures: number }): boolean {
    this.consecutive++;
    if (this.phase === 'open') {
      if (!probe) return false;
      // A failed probe sends the breaker back to open for a longer period.
      this.probesInFlight = Math.max(0, this.probesInFlight - 1);
      this.trip();
      return true;
    }
    const { failureThreshold, errorThresholdPercentage, volumeThreshold } = this.rules;
    if (failureThreshold !== undefined && this.consecutive >= failureThreshold) {
      this.trip();
      return true;
    }
    if (errorThresholdPercentage !== undefined) {
      const { fires, failures } = windowRate();
      if (
        fires >= volumeThreshold &&
        fires > 0 &&
        (failures / fires) * 100 > errorThresholdPercentage
      ) {
        this.trip();
        return true;
      }
    }
    return false;
  }

  /** Opens now, for the current (lengthening) open period. */
  trip(): void {
    this.trips++;
    const { resetTimeout, resetBackoffFactor, maxResetTimeout } = this.rules;
    const period = Math.min(maxResetTimeout, resetTimeout * resetBackoffFactor ** (this.trips - 1));
    this.openFor(period);
  }

  /** Opens until `until` (ms since the epoch), e.g. because another instance opened. */
  openUntilTime(until: number, trips?: number): void {
    if (trips !== undefined) this.trips = Math.max(this.trips, trips);
    this.phase = 'open';
    this.openUntil = until;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
  }

  private openFor(period: number): void {
    this.openUntilTime(this.clock.now() + period);
  }

  close(): void {
    this.phase = 'closed';
    this.trips = 0;
    this.consecutive = 0;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    this.openUntil = 0;
  }

  snapshot(): BreakerSnapshot {
    const openUntil = this.openUntilMs;
    return {
      state: this.state,
      ...(openUntil === undefined ? {} : { openUntil }),
      trips: this.trips,
      consecutiveFailures: this.consecutive,
    };
  }

  private restore(s: BreakerSnapshot): void {
    this.trips = s.trips;
    this.consecutive = s.consecutiveFailures;
    if (s.state === 'closed') return;
    // A restored half-open breaker probes at once; an open one waits out what is left.
    this.phase = 'open';
    this.openUntil = s.state === 'halfOpen' ? this.clock.now() : (s.openUntil ?? this.clock.now());
  }
}
