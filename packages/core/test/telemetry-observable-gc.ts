// Run as `node --expose-gc --import tsx telemetry-observable-gc.ts`: adds a source for each of
// many objects, drops all but one, collects garbage, then registers an SDK and prints what it
// still reads.
import { startOtel } from '@org/test-utils';
import { createTelemetry } from '../src/index.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const telemetry = createTelemetry(
  { name: 'gc-probe' },
  { size: { kind: 'observableGauge', name: 'org.gc_probe.size', unit: '1', description: 'Size.' } },
);
const N = 2000;
let collected = 0;
const watch = new FinalizationRegistry<number>(() => {
  collected++;
});
const observe = (o: { name: string; buffer: Uint8Array }) =>
  telemetry.addCallback('size', o, (t, r) => r.observe(t.buffer.length, { name: t.name }));

const kept = { name: 'kept', buffer: new Uint8Array(16) };
observe(kept);
(() => {
  for (let i = 0; i < N; i++) {
    const o = { name: `dropped-${i}`, buffer: new Uint8Array(1024) };
    observe(o);
    watch.register(o, i);
  }
})();
for (let i = 0; i < 10; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 10));
}
const otel = startOtel();
await Promise.resolve();
const points = (await otel.points('org.gc_probe.size')).map((p) => String(p.attributes.name));
await otel.close();
console.log(JSON.stringify({ collected, points, kept: kept.name }));
