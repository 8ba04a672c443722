import type { Duration } from '@org/core';

/** Breaker settings tuned for a service an app commonly calls. */
export interface BreakerPreset {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long the breaker stays open before a probe. */
  resetTimeout: Duration;
  /** Per-attempt timeout. */
  timeout: Duration;
}

/**
 * Presets by upstream. LLM APIs get long timeouts (a completion can take a minute) and open for
 * long when they fail, since their outages last minutes; payment and email APIs answer fast and
 * recover sooner. Every field can be overridden in `createBreaker`'s options.
 */
export const presets = {
  openai: { failureThreshold: 5, resetTimeout: '60s', timeout: '120s' },
  anthropic: { failureThreshold: 3, resetTimeout: '30s', timeout: '120s' },
  stripe: { failureThreshold: 3, resetTimeout: '30s', timeout: '30s' },
  resend: { failureThreshold: 5, resetTimeout: '60s', timeout: '15s' },
} as const satisfies Record<string, BreakerPreset>;

/** Names of the built-in presets. */
export type PresetName = keyof typeof presets;
