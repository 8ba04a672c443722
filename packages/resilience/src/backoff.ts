/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): the delay before retry `n` (1-based) is uniform in [0, min(maxDelay, minDelay·2ⁿ⁻¹)].
 * Full jitter spreads a fleet's retries out instead of synchronising them into waves.
 */
export function fullJitterDelay(
  retry: number,
  minDelay: number,
  maxDelay: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelay, minDelay * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}
