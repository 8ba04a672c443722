/**
 * The cost of `alerts.captureException` against calling @sentry/core's client directly.
 *
 *   pnpm --filter @org/alerts run bench
 *
 * Both send through one `ServerRuntimeClient` whose transport answers at once (no network), so
 * the figures are the SDKs' own work: ours is passed that client (`client` option). Each batch
 * captures 100 new errors and then lets the event loop turn until the work left behind is done
 * (ours: until its queue is empty; the client: one turn), so building, scrubbing and envelopes
 * are inside the measured time. Throughput is
 * compared in paired rounds: each round runs both (in alternating order) as tinybench async
 * tasks; the ratio reported is the median of the rounds' ratios, with their range.
 */
import {
  createStackParser,
  createTransport,
  nodeStackLineParser,
  ServerRuntimeClient,
} from '@sentry/core';
import { Bench } from 'tinybench';
import { createAlerts } from '../src/index.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const TIME = Number(process.env.BENCH_TIME_MS ?? 400);
const BATCH = 100;

const client = new ServerRuntimeClient({
  dsn: 'http://key@127.0.0.1:9/1',
  integrations: [],
  stackParser: createStackParser(nodeStackLineParser()),
  transport: (o) =>
    createTransport(o, () => {
      return Promise.resolve({ statusCode: 200 });
    }),
});

type Capture = (i: number) => unknown;
let n = 0;
const yieldLoop = () => new Promise<void>((r) => setImmediate(r));
/** Turns until the work left behind by the batch is done: ours until its queue is empty. */
type Settle = () => Promise<void>;
const batch = (capture: Capture, settle: Settle) => async () => {
  for (let i = 0; i < BATCH; i++) capture(n++);
  await settle();
};
const clientSettled: Settle = yieldLoop;
const queueEmpty =
  (alerts: { readonly queued: number }): Settle =>
  async () => {
    do await yieldLoop();
    while (alerts.queued > 0);
  };

async function paired(name: string, ours: Capture, oursSettled: Settle, theirs: Capture) {
  const ratios: number[] = [];
  const usOurs: number[] = [];
  const usTheirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bench = new Bench({ time: TIME, warmupTime: 100 });
    const pair: [string, Capture, Settle][] = [
      ['@org/alerts', ours, oursSettled],
      ['@sentry/core client', theirs, clientSettled],
    ];
    for (const [label, fn, settle] of r % 2 === 0 ? pair : pair.reverse()) {
      bench.add(label, batch(fn, settle));
    }
    await bench.run();
    // Mean time of one batch in ms → µs per call.
    const us = (label: string) =>
      ((bench.tasks.find((x) => x.name === label)?.result?.latency.mean ?? Number.NaN) * 1000) /
      BATCH;
    ratios.push(us('@org/alerts') / us('@sentry/core client'));
    usOurs.push(us('@org/alerts'));
    usTheirs.push(us('@sentry/core client'));
  }
  const mid = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  const sorted = [...ratios].sort((a, b) => a - b);
  return {
    case: name,
    'ours µs/call (median)': mid(usOurs).toFixed(2),
    'client µs/call (median)': mid(usTheirs).toFixed(2),
    'ours ÷ client (median)': mid(ratios).toFixed(2),
    range: `${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}`,
  };
}

const rows = [];
let dropped = 0;
{
  // Distinct errors, throttle off: every call becomes an event on both sides (none dropped: the
  // queue is drained at each yield, which `dropped` below confirms).
  const alerts = createAlerts({ client, throttle: false, queue: { max: 10_000 } });
  alerts.on('dropped', (e) => {
    dropped += e.count;
  });
  rows.push(
    await paired(
      'distinct errors, every one sent',
      (i) =>
        alerts.captureException(new Error(`upstream failed #${i}`), { fingerprint: [String(i)] }),
      queueEmpty(alerts),
      (i) => client.captureException(new Error(`upstream failed #${i}`)),
    ),
  );
  await alerts.flush('10s');
  await alerts.close();
}
{
  // One error in a loop, default throttle (10 a minute, then a summary): the 135k-events case.
  const alerts = createAlerts({ client });
  rows.push(
    await paired(
      'the same error in a loop (default throttle)',
      () => alerts.captureException(new Error('upstream timed out')),
      queueEmpty(alerts),
      () => client.captureException(new Error('upstream timed out')),
    ),
  );
  await alerts.flush('10s');
  await alerts.close();
}
await client.flush(10_000);

console.log(
  `\n${ROUNDS} paired rounds of ${TIME} ms, batches of ${BATCH} captures; ${dropped} events dropped by ours`,
);
console.table(rows);
