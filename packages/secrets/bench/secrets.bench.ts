// Reads of @org/secrets against AWS Powertools' parameters utility, both on one moto_server in
// this one process: the cached `getSecret` (the hot path of an app), and a read that always goes
// to Secrets Manager (Powertools' `forceFetch` against our `refresh`).
// Run: pnpm --filter @org/secrets bench  (builds first; needs moto_server)
import { loadavg } from 'node:os';
import { getSecret as powertoolsGetSecret } from '@aws-lambda-powertools/parameters/secrets';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createSecrets } from '@org/secrets';
import { awsProvider, getSecret } from '@org/secrets/aws';
import { Bench } from 'tinybench';
import { motoConnection, startMoto } from '../test/moto.js';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
console.log(`Node ${process.version}, load average at the start ${load()}`);

const moto = await startMoto();
// Both shortcuts make their client on the SDK's defaults, which read these: one moto for both.
process.env.AWS_ENDPOINT_URL = moto.endpoint;
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
const name = `bench-${process.pid}`;
await moto.admin.send(new CreateSecretCommand({ Name: name, SecretString: 'x'.repeat(64) }));

// Same cache lifetime on both sides: 5 minutes (Powertools' maxAge is in seconds).
const POWERTOOLS = { maxAge: 300 };
const direct = createSecrets({
  provider: awsProvider({ clientConfig: motoConnection(moto.endpoint) }),
});
// Warm both caches and check both read the same thing.
const a = (await getSecret(name)).reveal();
const b = await powertoolsGetSecret(name, POWERTOOLS);
if (a !== b) throw new Error('the two sides read different values');

interface Case {
  name: string;
  iterations: number;
  powertools: () => Promise<unknown>;
  ours: () => Promise<unknown>;
}
const cases: Case[] = [
  {
    name: 'cached getSecret',
    iterations: 100_000,
    powertools: () => powertoolsGetSecret(name, POWERTOOLS),
    ours: () => getSecret(name),
  },
  {
    name: 'uncached read (forceFetch / refresh)',
    iterations: 200,
    powertools: () => powertoolsGetSecret(name, { ...POWERTOOLS, forceFetch: true }),
    ours: () => direct.refresh(name),
  },
];

// Rounds alternate which side runs first, and each row reports the median of the per-round
// time ratios with their range: a ratio of two times measured side by side in one round
// cancels the drift (GC, moto, the neighbours) that a ratio of two whole-run medians keeps.
const ROUNDS = 15;
const median = (xs: number[]) =>
  [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? Number.NaN;
const rows: Record<string, string>[] = [];
for (const c of cases) {
  const means: Record<string, number[]> = { powertools: [], '@org/secrets': [] };
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({
      iterations: c.iterations,
      time: 0,
      warmupIterations: Math.min(1000, c.iterations / 10),
      warmupTime: 0,
    });
    const tasks: [string, () => Promise<unknown>][] = [
      ['powertools', c.powertools],
      ['@org/secrets', c.ours],
    ];
    if (round % 2 === 1) tasks.reverse();
    // Added as async functions: tinybench calls a plain function once when it is added, to see
    // whether it returns a promise, which would make a read outside the measurement.
    for (const [task, fn] of tasks) {
      bench.add(task, async () => {
        await fn();
      });
    }
    await bench.run();
    for (const t of bench.tasks) means[t.name]?.push(t.result?.latency.mean ?? Number.NaN);
  }
  const ratios = (means['@org/secrets'] ?? []).map((o, i) => o / (means.powertools?.[i] ?? 1));
  const us = (task: string) => (median(means[task] ?? []) * 1000).toFixed(2);
  rows.push({
    case: c.name,
    rounds: String(ratios.length),
    'powertools µs/op': us('powertools'),
    '@org/secrets µs/op': us('@org/secrets'),
    'time ratio (ours/powertools), median of rounds': median(ratios).toFixed(2),
    range: `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`,
  });
}
console.table(rows);
console.log(`load average at the end ${load()}`);
await direct.close();
await moto.stop();
process.exit(0);
