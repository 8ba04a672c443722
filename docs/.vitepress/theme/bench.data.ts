// Build-time data for <BenchChart>: the ratio tables of every package README's benchmark
// section, read again on every build (and on every README change in dev).
import { defineLoader } from 'vitepress';
import { type BenchChartData, packageBenchCharts } from '../lib/bench.js';
import { guidePackages, readmePath } from '../lib/readme.js';

export type BenchData = Record<string, BenchChartData[]>;

declare const data: BenchData;

export { data };

export default defineLoader({
  watch: guidePackages.map(readmePath),
  load(): BenchData {
    return Object.fromEntries(guidePackages.map((p) => [p, packageBenchCharts(p)]));
  },
});
