/**
 * @org/core's hot primitives beside what a user would otherwise write or install, in one
 * process: the duration parser against `ms`, the typed emitter against `node:events`, and
 * `withTimeout` against a hand-rolled `Promise.race` with a timer (no signal, no cleanup of a
 * caller's signal). Each row is the median of paired rounds (the two tasks alternate, each
 * round in the other order) of ours over the anchor's ops/s, with the range.
 *
 *   pnpm --filter @org/core bench
 */
import { EventEmitter } from 'node:events';
import { Emitter, parseDuration, withTimeout } from '@org/core';
import ms from 'ms';
import { Bench } from 'tinybench';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
type Task = () => Promise<unknown>;

async function paired(name: string, ours: Task, anchor: Task): Promise<string> {
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: 200, warmup: true });
    const order: [string, Task][] =
      round % 2 === 0
        ? [
            ['ours', ours],
            ['anchor', anchor],
          ]
        : [
            ['anchor', anchor],
            ['ours', ours],
          ];
    for (const [label, fn] of order) bench.add(label, fn);
    await bench.run();
    const hz = (label: string) => bench.getTask(label)?.result?.throughput?.mean ?? Number.NaN;
    ratios.push(hz('ours') / hz('anchor'));
  }
  ratios.sort((a, b) => a - b);
  const median = ratios[Math.floor(ratios.length / 2)]!;
  return `| ${name} | ${median.toFixed(2)} | ${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)} |`;
}

// Parsing: the same mixed inputs for both.
const inputs = ['250ms', '30s', '15m', '12h', '7d', '2w', '1.5h'] as const;
let i = 0;
const parseOurs: Task = async () => parseDuration(inputs[i++ % inputs.length]!);
const parseMs: Task = async () => ms(inputs[i++ % inputs.length]!);

// Emitting one payload object to one listener.
interface Ev {
  hit: { key: string };
}
let sink = 0;
const ours = new Emitter<Ev>('bench');
ours.on('hit', (p) => {
  sink += p.key.length;
});
const node = new EventEmitter();
node.on('hit', (p: { key: string }) => {
  sink += p.key.length;
});
const payload = { key: 'user:1' };
const emitOurs: Task = async () => ours.emit('hit', payload);
const emitNode: Task = async () => node.emit('hit', payload);
const quiet = new Emitter<Ev>('bench-quiet');
const quietNode = new EventEmitter();
const emitNone: Task = async () => quiet.emit('hit', payload);
const emitNoneNode: Task = async () => quietNode.emit('hit', payload);

// Bounding an async call that settles at once.
const op = async () => 1;
const timeoutOurs: Task = () => withTimeout(op, { timeoutMs: 1_000 });
// What a user writes to give the call a signal that aborts at the deadline.
const timeoutSignal: Task = () => {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(controller.signal).then(op),
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error('timeout'));
      }, 1_000);
    }),
  ]).finally(() => clearTimeout(timer));
};
// The bare race: no signal for the call, so nothing can cancel it.
const timeoutRace: Task = () => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    op(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), 1_000);
    }),
  ]).finally(() => clearTimeout(timer));
};

console.log(
  `@org/core bench, Node ${process.version}, ${ROUNDS} paired rounds; ratio = ours / anchor ops/s (higher is better)\n`,
);
console.log('| operation (anchor) | ratio | range |\n|---|---:|---|');
console.log(await paired("parseDuration vs ms('…')", parseOurs, parseMs));
console.log(await paired('Emitter.emit, 1 listener vs EventEmitter', emitOurs, emitNode));
console.log(await paired('Emitter.emit, no listener vs EventEmitter', emitNone, emitNoneNode));
console.log(
  await paired('withTimeout vs AbortController + timer + race', timeoutOurs, timeoutSignal),
);
console.log(await paired('withTimeout vs a bare race (no signal)', timeoutOurs, timeoutRace));
if (sink < 0) console.log(sink);
