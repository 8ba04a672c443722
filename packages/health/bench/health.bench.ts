/**
 * `GET /health` requests per second through a node:http server: @org/health's handler (results
 * cached for 1 s, and uncached) against @godaddy/terminus on the same checks, in one process.
 * With PostgreSQL on 127.0.0.1:5432 it also compares a real `SELECT 1` check.
 * Each task iteration sends 64 concurrent keep-alive requests (an autocannon-style batch) from
 * an http.Agent with 64 sockets; req/s = 64 × iterations/s, best of 5 interleaved rounds.
 *
 *   pnpm --filter @org/health bench
 */

import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTerminus } from '@godaddy/terminus';
import type { Duration } from '@org/core';
import { createHealth } from '@org/health';
import { pgCheck } from '@org/health/pg';
import { canConnect } from '@org/test-utils';
import pg from 'pg';
import { Bench } from 'tinybench';

const BATCH = 64;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The checks: a database round trip of ~2 ms, and one that settles at once. */
const dbCheck = () => sleep(2);
const instantCheck = async () => undefined;

async function start(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

function ours(check: (signal: AbortSignal) => unknown, cache: Duration): Server {
  const health = createHealth({ checks: { database: check }, quick: ['database'], cache });
  return createServer(health.handler());
}

function terminus(check: () => Promise<unknown>): Server {
  const server = createServer((_req, res) => res.writeHead(404).end());
  createTerminus(server, {
    healthChecks: { '/health': async () => ({ database: await check() }) },
    useExit0: true,
  });
  return server;
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
const batch = (url: string) => () => Promise.all(Array.from({ length: BATCH }, () => get(url)));

// With PostgreSQL on loopback, the same `SELECT 1` on one pool behind both.
const pool = (await canConnect(5432))
  ? new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: 'test', max: 10 })
  : undefined;
const pgServers: [string, Server][] = pool
  ? [
      ['terminus, pg SELECT 1', terminus(() => pool.query('SELECT 1'))],
      ['@org/health cached 1 s, pg SELECT 1', ours(pgCheck({ client: pool }).check, '1s')],
    ]
  : [];

const servers: [string, Server][] = [
  ...pgServers,
  ['terminus, 2 ms check', terminus(dbCheck)],
  ['@org/health cached 1 s, 2 ms check', ours(dbCheck, '1s')],
  ['@org/health uncached, 2 ms check', ours(dbCheck, 0)],
  ['terminus, instant check', terminus(instantCheck)],
  ['@org/health cached 1 s, instant check', ours(instantCheck, '1s')],
  ['@org/health uncached, instant check', ours(instantCheck, 0)],
];

// Other work on a shared machine adds noise: run every task in ROUNDS interleaved rounds and
// keep each task's best round.
const ROUNDS = 5;
const urls = await Promise.all(servers.map(async ([name, s]) => [name, await start(s)] as const));
const best = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  const bench = new Bench({ time: 800, warmupTime: 200 });
  for (const [name, url] of urls) bench.add(name, batch(url));
  await bench.run();
  for (const t of bench.tasks) {
    // A task whose batch failed (a non-200 answer under load) has no throughput: say so and
    // keep the other rounds, instead of losing the run.
    if (!t.result?.throughput) {
      console.error(`round ${round + 1}: ${t.name} failed: ${String(t.result?.error)}`);
      continue;
    }
    const rps = BATCH * t.result.throughput.mean;
    best.set(t.name, Math.max(best.get(t.name) ?? 0, rps));
  }
}
agent.destroy();
await pool?.end();
for (const [, s] of servers) {
  s.closeAllConnections();
  s.close();
}

const rps = (name: string) => best.get(name) ?? Number.NaN;
console.table(
  servers.map(([name]) => {
    const r = rps(name);
    const anchor = name.includes('instant')
      ? 'terminus, instant check'
      : name.includes('pg')
        ? 'terminus, pg SELECT 1'
        : 'terminus, 2 ms check';
    return {
      task: name,
      'req/s (best of 5)': Math.round(r).toLocaleString('en-US'),
      'vs terminus': `${(r / rps(anchor)).toFixed(2)}×`,
    };
  }),
);
