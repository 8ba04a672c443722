import { describe, expect, it } from 'vitest';
import { type CircuitRules, CircuitState } from '../src/circuit-state.js';

// The state machine alone, on a hand-moved clock: no timers exist to advance.
const RULES: CircuitRules = {
  failureThreshold: 3,
  errorThresholdPercentage: undefined,
  volumeThreshold: 0,
  resetTimeout: 1_000,
  maxResetTimeout: 4_000,
  resetBackoffFactor: 2,
  halfOpenProbes: 1,
  successThreshold: 1,
};

function machine(rules: Partial<CircuitRules> = {}) {
  let now = 1_000_000;
  const state = new CircuitState({ ...RULES, ...rules }, { now: () => now });
  const noWindow = () => ({ fires: 0, failures: 0 });
  return {
    state,
    noWindow,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

describe('CircuitState', () => {
  it('goes closed → open → halfOpen → closed on the clock alone', () => {
    const { state, noWindow, advance } = machine();
    expect(state.failure(false, noWindow)).toBe(false);
    expect(state.failure(false, noWindow)).toBe(false);
    expect(state.state).toBe('closed');
    expect(state.failure(false, noWindow)).toBe(true);
    expect(state.state).toBe('open');
    expect(state.admit()).toEqual({ kind: 'reject', retryAfterMs: 1_000 });
    advance(999);
    expect(state.state).toBe('open');
    advance(1);
    expect(state.state).toBe('halfOpen');
    expect(state.admit()).toEqual({ kind: 'probe' });
    expect(state.success(true)).toBe(true);
    expect(state.state).toBe('closed');
    expect(state.tripCount).toBe(0);
  });

  it('a failed probe reopens for a longer period, capped at maxResetTimeout', () => {
    const { state, noWindow, advance } = machine();
    for (let i = 0; i < 3; i++) state.failure(false, noWindow);
    const periods: number[] = [];
    for (let trip = 0; trip < 5; trip++) {
      const admission = state.admit();
      if (admission.kind !== 'reject') throw new Error('expected reject');
      periods.push(admission.retryAfterMs ?? -1);
      advance(admission.retryAfterMs ?? 0);
      expect(state.admit()).toEqual({ kind: 'probe' });
      expect(state.failure(true, noWindow)).toBe(true);
    }
    expect(periods).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it('lets only halfOpenProbes through and closes after successThreshold successes', () => {
    const { state, noWindow, advance } = machine({ halfOpenProbes: 2, successThreshold: 2 });
    for (let i = 0; i < 3; i++) state.failure(false, noWindow);
    advance(1_000);
    expect(state.admit().kind).toBe('probe');
    expect(state.admit().kind).toBe('probe');
    expect(state.admit()).toEqual({ kind: 'reject', retryAfterMs: undefined });
    expect(state.success(true)).toBe(false);
    expect(state.state).toBe('halfOpen');
    expect(state.admit().kind).toBe('probe');
    expect(state.success(true)).toBe(true);
    expect(state.state).toBe('closed');
  });

  it('a success resets the consecutive count', () => {
    const { state, noWindow } = machine();
    state.failure(false, noWindow);
    state.failure(false, noWindow);
    state.success(false);
    state.failure(false, noWindow);
    state.failure(false, noWindow);
    expect(state.state).toBe('closed');
    expect(state.consecutiveFailures).toBe(2);
  });

  it('percentage mode waits for the volume threshold and opens above the percentage', () => {
    const { state } = machine({
      failureThreshold: undefined,
      errorThresholdPercentage: 50,
      volumeThreshold: 4,
    });
    expect(state.failure(false, () => ({ fires: 3, failures: 3 }))).toBe(false);
    expect(state.failure(false, () => ({ fires: 4, failures: 2 }))).toBe(false);
    expect(state.failure(false, () => ({ fires: 4, failures: 3 }))).toBe(true);
  });

  it('snapshots restore: open waits out what is left, halfOpen probes at once', () => {
    const a = machine();
    for (let i = 0; i < 3; i++) a.state.failure(false, a.noWindow);
    a.advance(400);
    const snap = a.state.snapshot();
    expect(snap).toMatchObject({ state: 'open', trips: 1, consecutiveFailures: 3 });
    const restored = new CircuitState(RULES, { now: a.now }, snap);
    expect(restored.admit()).toEqual({ kind: 'reject', retryAfterMs: 600 });
    a.advance(600);
    expect(restored.state).toBe('halfOpen');
    // A second failed probe after restore lengthens the period, since the trip count came along.
    expect(restored.admit().kind).toBe('probe');
    restored.failure(true, a.noWindow);
    expect(restored.admit()).toEqual({ kind: 'reject', retryAfterMs: 2_000 });
  });
});
