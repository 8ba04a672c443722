/**
 * Paired rounds for the packages' benchmarks: each round runs ours and the anchor side by side
 * in one tinybench run (the order alternates round by round), and the row is the median of the
 * per-round ratios with their range. A ratio of two figures measured in the same round cancels
 * the drift (GC, the machine's neighbours) that a ratio of two whole-run medians would keep.
 *
 *   import { pairedRatio, formatRatioRow } from '@org/test-utils/bench';
 */
import { Bench } from 'tinybench';

export type BenchTask = () => Promise<unknown>;

export interface PairedOptions {
  /** Rounds; the median is taken over them. @default Number(process.env.BENCH_ROUNDS ?? 9) */
  rounds?: number;
  /** Milliseconds each task runs per round. @default 200 */
  time?: number;
  /** Milliseconds of warm-up per task per round. @default 100 */
  warmupTime?: number;
  /** Calls each task makes per tinybench iteration (throughput is multiplied by it). @default 1 */
  perIteration?: number;
}

export interface PairedResult {
  /** ours ÷ anchor throughput per round, in round order. */
  ratios: number[];
  /** Median of `ratios` (higher is better for ours). */
  median: number;
  min: number;
  max: number;
  /** Median calls per second of ours and of the anchor, for context (never the verdict). */
  oursHz: number;
  anchorHz: number;
}

const medianOf = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * Runs `ours` and `anchor` in paired alternating rounds and returns the throughput ratio
 * ours ÷ anchor per round with its median and range. Pass `async` functions: tinybench calls a
 * plain function once when it is added, unmeasured.
 */
export async function pairedRatio(
  ours: BenchTask,
  anchor: BenchTask,
  options: PairedOptions = {},
): Promise<PairedResult> {
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 9);
  const time = options.time ?? 200;
  const warmupTime = options.warmupTime ?? 100;
  const per = options.perIteration ?? 1;
  const ratios: number[] = [];
  const oursHz: number[] = [];
  const anchorHz: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, warmupTime, warmup: warmupTime > 0 });
    const pair: [string, BenchTask][] = [
      ['ours', ours],
      ['anchor', anchor],
    ];
    if (round % 2 === 1) pair.reverse();
    for (const [label, fn] of pair) bench.add(label, fn);
    await bench.run();
    const hz = (label: string) =>
      (bench.getTask(label)?.result?.throughput?.mean ?? Number.NaN) * per;
    ratios.push(hz('ours') / hz('anchor'));
    oursHz.push(hz('ours'));
    anchorHz.push(hz('anchor'));
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  return {
    ratios,
    median: medianOf(ratios),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    oursHz: medianOf(oursHz),
    anchorHz: medianOf(anchorHz),
  };
}

/** `| name | 1.03× | 0.98–1.07× |` (plus any extra cells) for a README table. */
export function formatRatioRow(name: string, r: PairedResult, ...extra: string[]): string {
  const cells = [
    name,
    `${r.median.toFixed(2)}×`,
    `${r.min.toFixed(2)}–${r.max.toFixed(2)}×`,
    ...extra,
  ];
  return `| ${cells.join(' | ')} |`;
}
