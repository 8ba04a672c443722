import { invalidOption } from './errors.js';

/** The built-in TTL presets, in seconds. */
export const defaultTtlPresets = {
  default: 300,
  contractor: 600,
  pricing: 1800,
  template: 300,
} as const;

/** Names of the built-in TTL presets. */
export type DefaultTtlPreset = keyof typeof defaultTtlPresets;

/** A TTL: seconds, or the name of a preset. */
export type Ttl<P extends string = DefaultTtlPreset> = number | P | DefaultTtlPreset;

/** `quoteTemplate` → `CACHE_TTL_QUOTE_TEMPLATE`. */
export function ttlEnvName(preset: string): string {
  return `CACHE_TTL_${preset
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]/g, '_')
    .toUpperCase()}`;
}

function checkSeconds(name: string, value: number, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalidOption(
      `TTL preset "${name}" from ${where} must be a positive number of seconds; got ${String(value)}.`,
    );
  }
  return value;
}

/**
 * Resolves the TTL presets (seconds): built-in defaults, then `options`, then `CACHE_TTL_<NAME>`
 * environment variables, which win so that operators can retune a deployment without a code
 * change. An env var for a name no preset has (`CACHE_TTL_SESSION=60`) adds preset `session`.
 */
export function resolvePresets(
  options: Readonly<Record<string, number | undefined>> | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Map<string, number> {
  const presets = new Map<string, number>(Object.entries(defaultTtlPresets));
  for (const [name, value] of Object.entries(options ?? {})) {
    if (value !== undefined) presets.set(name, checkSeconds(name, value, 'options.ttl'));
  }
  for (const name of presets.keys()) {
    const raw = env[ttlEnvName(name)];
    if (raw !== undefined && raw !== '') {
      presets.set(name, checkSeconds(name, Number(raw), ttlEnvName(name)));
    }
  }
  for (const [key, raw] of Object.entries(env)) {
    if (!key.startsWith('CACHE_TTL_') || raw === undefined || raw === '') continue;
    const name = key.slice('CACHE_TTL_'.length).toLowerCase();
    if (!presets.has(name) && !hasPresetFor(presets, key)) {
      presets.set(name, checkSeconds(name, Number(raw), key));
    }
  }
  return presets;
}

function hasPresetFor(presets: Map<string, number>, envName: string): boolean {
  for (const name of presets.keys()) if (ttlEnvName(name) === envName) return true;
  return false;
}

/** Turns a per-call TTL (seconds or preset name) into milliseconds. */
export function ttlToMs(ttl: number | string, presets: Map<string, number>): number {
  if (typeof ttl === 'number') {
    if (!Number.isFinite(ttl) || ttl <= 0) {
      throw invalidOption(
        `\`ttl\` must be a positive number of seconds or a preset name; got ${ttl}.`,
      );
    }
    return ttl * 1000;
  }
  const seconds = presets.get(ttl);
  if (seconds === undefined) {
    throw invalidOption(
      `Unknown TTL preset "${ttl}". Known presets: ${[...presets.keys()].join(', ')}; add it to \`ttl\` in createCache options.`,
    );
  }
  return seconds * 1000;
}

/**
 * Shortens `ms` by up to `jitter` (a fraction) at random, so entries written together do not all
 * expire together. Never lengthens a TTL.
 */
export function withJitter(ms: number, jitter: number, random: () => number): number {
  if (jitter <= 0) return ms;
  return Math.max(1, Math.round(ms * (1 - jitter * random())));
}
