import { createServer, type Server, Socket } from 'node:net';
import { createHealth } from '@org/health';
import { pgCheck } from '@org/health/pg';
import { freePort, serverAvailable } from '@org/test-utils';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A TCP proxy to the shared PostgreSQL that can stall (pause) or drop its connections. */
async function pgProxy() {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(5432, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    pause: () => {
      for (const s of sockets) s.pause();
    },
    resume: () => {
      for (const s of sockets) s.resume();
    },
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe.runIf(await serverAvailable('PostgreSQL', 5432))('pgCheck on real PostgreSQL', () => {
  const pools: pg.Pool[] = [];
  const pool = (port: number, extra: pg.PoolConfig = {}) => {
    const p = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'test',
      max: 2,
      connectionTimeoutMillis: 1_000,
      ...extra,
    });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  let proxy: Awaited<ReturnType<typeof pgProxy>>;
  beforeAll(async () => {
    proxy = await pgProxy();
  });
  afterAll(async () => {
    proxy.resume();
    await proxy.stop().catch(() => undefined);
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  });

  it('passes with a pool and with a client', async () => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: 5432,
      user: 'postgres',
      database: 'test',
    });
    await client.connect();
    try {
      const health = createHealth({
        checks: { database: pgCheck({ client: pool(5432) }), replica: pgCheck({ client }) },
        quick: ['database'],
      });
      const r = await health.full();
      expect(r.status).toBe('healthy');
      expect(r.checks.database?.componentType).toBe('datastore');
      expect(r.checks.database?.latencyMs).toBeLessThan(500);
    } finally {
      await client.end();
    }
  });

  it('reports the change when the database stalls, then goes away', async () => {
    const health = createHealth({
      checks: { database: pgCheck({ client: pool(proxy.port), timeout: 300 }) },
      quick: ['database'],
      cache: 0,
    });
    expect((await health.quick()).status).toBe('healthy');

    proxy.pause();
    const stalled = await health.quick();
    expect(stalled.status).toBe('unhealthy');
    expect(stalled.checks.database).toMatchObject({ status: 'timeout' });
    expect(stalled.checks.database?.latencyMs).toBeLessThan(600);

    proxy.resume();
    await proxy.stop();
    const gone = await health.quick();
    expect(gone.status).toBe('unhealthy');
    expect(gone.checks.database?.status).toBe('fail');
    expect(gone.checks.database?.reason).toMatch(/ECONNREFUSED|terminated|Connection/i);
  });

  it('a closed port fails, and the connection string password never reaches the report', async () => {
    const port = await freePort();
    const p = new pg.Pool({
      connectionString: `postgres://app:Sup3rS3cret@127.0.0.1:${port}/test`,
      connectionTimeoutMillis: 500,
    });
    pools.push(p);
    const health = createHealth({ checks: { database: pgCheck({ client: p }) } });
    const r = await health.full();
    expect(r.checks.database).toMatchObject({ status: 'fail' });
    expect(r.checks.database?.reason).toContain('ECONNREFUSED');
    expect(JSON.stringify(r)).not.toContain('Sup3rS3cret');
  });

  it('a failing query fails with the server message', async () => {
    const health = createHealth({
      checks: { database: pgCheck({ client: pool(5432), query: 'SELECT * FROM no_such_table_x' }) },
    });
    const r = await health.full();
    expect(r.checks.database?.reason).toContain('no_such_table_x');
  });
});
