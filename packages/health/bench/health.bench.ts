/**
 * `GET /health` requests per second through node:http servers: @org/health's handler (results
 * cached for 1 s, and uncached) against @godaddy/terminus on the same check, in one process.
 * With PostgreSQL on 127.0.0.1:5432 it also compares a real `SELECT 1` check.
 *
 * Each task iteration sends 64 concurrent keep-alive requests (an autocannon-style batch) from
 * an http.Agent with 64 sockets. Each row is the median of paired alternating rounds (ours and
 * the anchor side by side in one tinybench run, the order flipped each round) with the range:
 * req/s ours ÷ anchor, the anchor being terminus unless the row says otherwise, so ≥ 1 means
 * ours serves at least as many probes.
 *
 * The first row, terminus against a second terminus server, is the noise floor of the run: how
 * far from 1 a ratio strays when both sides do the same work.
 *
 *   pnpm --filter @org/health bench        (BENCH_ROUNDS=21 by default: short rounds, many)
 */

import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import type { Duration } from '@org/core';
import { createHealth } from '@org/health';
import { pgCheck } from '@org/health/pg';
import { canConnect } from '@org/test-utils';
import { formatRatioRow, type PairedResult, pairedRatio } from '@org/test-utils/bench';
import pg from 'pg';

const BATCH = 64;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The checks: a database round trip of ~2 ms, and one that settles at once. */
const dbCheck = () => sleep(2);
const instantCheck = async () => undefined;
/** The same, written to take its signal: an AbortSignal is made for it on every run. */
const instantWithSignal = async (signal: AbortSignal) => void signal;

const servers: Server[] = [];
async function start(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

function ours(check: (signal: AbortSignal) => unknown, cache: Duration): Promise<string> {
  const health = createHealth({ checks: { database: check }, quick: ['database'], cache });
  return start(createServer(health.handler()));
}

function terminus(check: () => Promise<unknown>): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(404).end());
  createTerminus(server, {
    healthChecks: { '/health': async () => ({ database: await check() }) },
    useExit0: true,
  });
  return start(server);
}

const agent = new Agent({ keepAlive: true, maxSockets: BATCH });
function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
}
const batch = (url: string) => async () =>
  Promise.all(Array.from({ length: BATCH }, () => get(url)));

// With PostgreSQL on loopback, the same `SELECT 1` on one pool behind both.
const pool = (await canConnect(5432))
  ? new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: 'test', max: 10 })
  : undefined;
if (!pool) console.log('PostgreSQL is not on 127.0.0.1:5432: the pg rows are left out.\n');

const terminusInstant = await terminus(instantCheck);
const terminusInstant2 = await terminus(instantCheck);
const terminusDb = await terminus(dbCheck);
const oursInstant = await ours(instantCheck, 0);
// Each row: [@org/health task, its server, the anchor's server, goal].
const rows: [string, string, string, string][] = [
  [
    'noise floor: terminus vs a second terminus, instant check',
    terminusInstant2,
    terminusInstant,
    '1× ± noise',
  ],
  ['uncached, instant check', oursInstant, terminusInstant, '≥ 1×'],
  [
    'uncached, instant check taking its `signal`, vs the same without (not terminus)',
    await ours(instantWithSignal, 0),
    oursInstant,
    'the signal’s cost',
  ],
  ['cached 1 s, instant check', await ours(instantCheck, '1s'), terminusInstant, '≥ 1×'],
  ['uncached, 2 ms check', await ours(dbCheck, 0), terminusDb, '≥ 1×'],
  ['cached 1 s, 2 ms check', await ours(dbCheck, '1s'), terminusDb, '≥ 1×'],
];
if (pool) {
  const terminusPg = await terminus(() => pool.query('SELECT 1'));
  rows.push(
    ['uncached, pg `SELECT 1`', await ours(pgCheck({ client: pool }).check, 0), terminusPg, '≥ 1×'],
    [
      'cached 1 s, pg `SELECT 1`',
      await ours(pgCheck({ client: pool }).check, '1s'),
      terminusPg,
      '≥ 1×',
    ],
  );
}

const rounds = Number(process.env.BENCH_ROUNDS ?? 21);
const results: [string, PairedResult][] = [];
for (const [task, oursUrl, anchorUrl, goal] of rows) {
  const r = await pairedRatio(batch(oursUrl), batch(anchorUrl), {
    rounds,
    time: 200,
    warmupTime: 100,
    perIteration: BATCH,
  });
  results.push([formatRatioRow(task, r, goal), r]);
}
agent.destroy();
await pool?.end();
for (const s of servers) {
  s.closeAllConnections();
  s.close();
}

console.log(
  `Node ${process.version}, ${rounds} paired rounds per row, ${BATCH} requests a batch\n`,
);
console.log(
  '| `GET /health`, @org/health vs anchor | req/s ours ÷ anchor (median) | range | goal |',
);
console.log('|---|---:|---:|---:|');
for (const [row] of results) console.log(row);
console.log('');
for (const [row, r] of results) {
  console.log(
    `${row.split(' | ')[0]?.slice(2)}: ours ${Math.round(r.oursHz).toLocaleString('en-US')} req/s, anchor ${Math.round(r.anchorHz).toLocaleString('en-US')} req/s (context only)`,
  );
}
