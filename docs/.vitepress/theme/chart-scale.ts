// A log scale for ratios: 0.5× and 2× sit the same distance from parity (1×), so a package twice
// as fast and one twice as slow look like what they are.
const candidates = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export interface Scale {
  /** Position of a ratio on the axis, 0–100 (percent of the track). */
  x(value: number): number;
  ticks: number[];
}

export function ratioScale(values: number[]): Scale {
  const positive = values.filter((v) => v > 0);
  const lo = Math.min(0.5, ...positive.map((v) => v / 1.25));
  const hi = Math.max(2, ...positive.map((v) => v * 1.25));
  const span = Math.log(hi) - Math.log(lo);
  const x = (v: number) =>
    Math.min(100, Math.max(0, ((Math.log(Math.max(v, lo)) - Math.log(lo)) / span) * 100));
  const ticks = candidates.filter((t) => t >= lo && t <= hi);
  // Keep the axis readable on a phone: at most five labels, parity always among them.
  const step = Math.ceil(ticks.length / 5);
  const one = ticks.indexOf(1);
  return { x, ticks: ticks.filter((_, i) => (i - one) % step === 0) };
}

export const formatRatio = (v: number) =>
  v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2);
