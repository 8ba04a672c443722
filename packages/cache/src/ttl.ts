import { DURATION_HINT, type Duration, showValue, toMs } from '@org/core';
import { invalidOption } from './errors.js';

/** A TTL: a core `Duration` (milliseconds as a number, or `'30s'`, `'15m'` …), or a preset name. */
export type Ttl<P extends string = never> = Duration | P;

/** The TTL of a call that names none. */
export const DEFAULT_TTL_MS = 5 * 60_000;

/** `quoteTemplate` → `CACHE_TTL_QUOTE_TEMPLATE`: the variable `createCacheFromEnv` reads for it. */
export function ttlEnvName(preset: string): string {
  return `CACHE_TTL_${preset
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]/g, '_')
    .toUpperCase()}`;
}

/** The milliseconds of a positive Duration, or undefined. */
function positiveMs(value: unknown): number | undefined {
  const ms = toMs(value);
  return ms !== undefined && ms > 0 ? ms : undefined;
}

/**
 * The app's presets (`{ pricing: '30m' }`), validated, in milliseconds. A name must not read as
 * a duration itself (`'5m'`), so that a call's `ttl` is never ambiguous.
 */
export function resolvePresets(presets: unknown): Map<string, number> {
  const out = new Map<string, number>();
  if (presets === undefined) return out;
  if (typeof presets !== 'object' || presets === null || Array.isArray(presets)) {
    throw invalidOption(
      `\`presets\` must be an object of TTLs by name, such as { pricing: '30m' }; got ${showValue(presets)}.`,
    );
  }
  for (const [name, value] of Object.entries(presets)) {
    if (name === '' || toMs(name) !== undefined) {
      throw invalidOption(
        `TTL preset name ${showValue(name)} reads as a duration (or is empty): name presets for what they hold, such as 'pricing'.`,
      );
    }
    const ms = positiveMs(value);
    if (ms === undefined) {
      throw invalidOption(
        `\`presets.${name}\` must be a positive duration: ${DURATION_HINT}; got ${showValue(value)}.`,
      );
    }
    out.set(name, ms);
  }
  return out;
}

/** Turns a TTL (a Duration or a preset name) into milliseconds; `name` is the option, for messages. */
export function ttlToMs(ttl: unknown, presets: Map<string, number>, name = 'ttl'): number {
  if (typeof ttl === 'string') {
    const preset = presets.get(ttl);
    if (preset !== undefined) return preset;
    // A string that starts like a number is a duration with a bad unit, not a preset name.
    if (toMs(ttl) === undefined && !/^\s*[\d.]/.test(ttl)) {
      const known = presets.size === 0 ? 'none' : [...presets.keys()].join(', ');
      throw invalidOption(
        `Unknown TTL preset ${showValue(ttl)} in \`${name}\`. Known presets: ${known}; add it to \`presets\` in createCache options, or give a duration such as '30s'.`,
      );
    }
  }
  const ms = positiveMs(ttl);
  if (ms === undefined) {
    throw invalidOption(
      `\`${name}\` must be a positive duration (${DURATION_HINT}) or a preset name; got ${showValue(ttl)}.`,
    );
  }
  return ms;
}

/**
 * Shortens `ms` by up to `jitter` (a fraction) at random, so entries written together do not all
 * expire together. Never lengthens a TTL.
 */
export function withJitter(ms: number, jitter: number, random: () => number): number {
  if (jitter <= 0) return ms;
  return Math.max(1, Math.round(ms * (1 - jitter * random())));
}
