/** Breaker settings tuned for a service an app commonly calls. */
export interface BreakerPreset {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long the breaker stays open before a probe, in milliseconds. */
  resetTimeout: number;
  /** Per-attempt timeout, in milliseconds. */
  timeout: number;
}

/**
 * Presets by upstream. LLM APIs get long timeouts (a completion can take a minute) and open for
 * long when they fail, since their outages last minutes; payment and email APIs answer fast and
 * recover sooner. Every field can be overridden in `createBreaker`'s options.
 */
export const presets = {
  openai: { failureThreshold: 5, resetTimeout: 60_000, timeout: 120_000 },
  anthropic: { failureThreshold: 3, resetTimeout: 30_000, timeout: 120_000 },
  stripe: { failureThreshold: 3, resetTimeout: 30_000, timeout: 30_000 },
  resend: { failureThreshold: 5, resetTimeout: 60_000, timeout: 15_000 },
} as const satisfies Record<string, BreakerPreset>;

/** Names of the built-in presets. */
export type PresetName = keyof typeof presets;
