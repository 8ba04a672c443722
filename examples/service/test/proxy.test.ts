import { createHash, randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { clusterConfigFromEnv } from '../src/cluster/config.js';
import { ClusterError } from '../src/cluster/errors.js';
import { createRoundRobinProxy, type ProxyFailure } from '../src/cluster/proxy.js';

// The cluster script's proxy, in-process against small upstreams of the test's own.
const open: { close(): void }[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

const listen = async <T extends Server | ReturnType<typeof createTcpServer>>(server: T) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({
    close: () => {
      if ('closeAllConnections' in server) server.closeAllConnections();
      server.close();
    },
  });
  return (server.address() as AddressInfo).port;
};

/** An upstream that echoes what it got: its id, the headers, and a digest and size of the body. */
async function echo(id: string) {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer(async (req, res) => {
    seen.push(req.headers);
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-upstream': id,
      connection: 'keep-alive, x-private',
      'x-private': 'hop',
    });
    res.end(JSON.stringify({ id, bytes, sha256: hash.digest('hex') }));
  });
  return { id, port: await listen(server), seen, server };
}

/** One request with node:http, its body sent in 64 KiB chunks; bounded by 5 s. */
function send(url: string, method: string, body: Buffer, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = request(url, { method, headers, timeout: 5_000 }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
        );
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', reject);
      for (let at = 0; at < body.length; at += 65_536) req.write(body.subarray(at, at + 65_536));
      req.end();
    },
  );
}

async function proxyTo(
  targets: { id: string; port: number }[],
  extra: { timeout?: number; failures?: ProxyFailure[] } = {},
) {
  const proxy = createRoundRobinProxy({
    targets: targets.map(({ id, port }) => ({ id, host: '127.0.0.1', port })),
    timeout: extra.timeout,
    onFailure: (f) => extra.failures?.push(f),
  });
  return `http://127.0.0.1:${await listen(proxy)}`;
}

describe('round-robin proxy', () => {
  it('takes the instances in turn, streams bodies both ways, and sets the forwarding headers', async () => {
    const a = await echo('a');
    const b = await echo('b');
    const base = await proxyTo([a, b]);
    const body = randomBytes(3 * 1024 * 1024);
    const got: string[] = [];
    for (let n = 0; n < 4; n++) {
      // node:http, not fetch: fetch will not send a Connection header of the caller's.
      const res = await send(`${base}/upload?n=${n}`, 'PUT', body, {
        connection: 'x-secret',
        'x-secret': 'for the proxy only',
        'x-keep': 'yes',
      });
      expect(res.status).toBe(200);
      expect(res.headers['x-private']).toBeUndefined(); // listed in the answer's Connection
      const echoed = JSON.parse(res.body) as { id: string; bytes: number; sha256: string };
      expect(echoed.bytes).toBe(body.length);
      expect(echoed.sha256).toBe(createHash('sha256').update(body).digest('hex'));
      got.push(echoed.id);
    }
    expect(got).toEqual(['a', 'b', 'a', 'b']);
    const headers = a.seen[0]!;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(base).host);
    expect(headers['x-keep']).toBe('yes');
    expect(headers['x-secret']).toBeUndefined();
  });

  it('appends the peer to an X-Forwarded-For it was given', async () => {
    const a = await echo('a');
    const base = await proxyTo([a]);
    await (
      await fetch(base, {
        headers: { 'x-forwarded-for': '203.0.113.7' },
        signal: AbortSignal.timeout(5_000),
      })
    ).text();
    expect(a.seen[0]!['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });

  it('answers 502 at once, naming the instance, when one is down, and serves through the rest', async () => {
    const a = await echo('a');
    const gone = createServer();
    const port = await listen(gone);
    gone.close(); // nothing listens there now
    const failures: ProxyFailure[] = [];
    const base = await proxyTo([a, { id: 'down', port }], { failures });
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++) {
      const started = performance.now();
      const res = await fetch(base, { signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      statuses.push(res.status);
      if (res.status === 502) {
        expect(performance.now() - started).toBeLessThan(500);
        expect(res.headers.get('x-proxy-target')).toBe('down');
        expect(JSON.parse(text)).toMatchObject({
          error: expect.stringContaining('down'),
          code: 'ECONNREFUSED',
        });
      }
    }
    expect(statuses).toEqual([200, 502, 200, 502]);
    expect(failures.map((f) => [f.target.id, f.status, f.code])).toEqual([
      ['down', 502, 'ECONNREFUSED'],
      ['down', 502, 'ECONNREFUSED'],
    ]);
  });

  it('answers 504 when an instance takes the connection and never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    const port = await listen(silent);
    open.push({
      close: () => {
        for (const s of sockets) s.destroy();
      },
    });
    const base = await proxyTo([{ id: 'silent', port }], { timeout: 200 });
    const started = performance.now();
    const res = await fetch(base, { signal: AbortSignal.timeout(5_000) });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ code: 'ETIMEDOUT' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('passes Expect: 100-continue on: a refusal comes before the body, a go-ahead lets it through', async () => {
    const upstream = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => res.end(String(bytes)));
    });
    upstream.on('checkContinue', (req: IncomingMessage, res) => {
      if (Number(req.headers['content-length']) > 1_000) {
        res.writeHead(413, { connection: 'close' }).end('too large');
        return;
      }
      res.writeContinue();
      upstream.emit('request', req, res);
    });
    const base = await proxyTo([{ id: 'u', port: await listen(upstream) }]);
    const send = (size: number) =>
      new Promise<{ status: number; body: string; sentBody: boolean }>((resolve, reject) => {
        let sentBody = false;
        const req = request(`${base}/`, {
          method: 'PUT',
          headers: { expect: '100-continue', 'content-length': String(size) },
          timeout: 5_000,
        });
        req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
        req.on('continue', () => {
          sentBody = true;
          req.end(Buffer.alloc(size, 1));
        });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sentBody }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    expect(await send(2_000)).toEqual({ status: 413, body: 'too large', sentBody: false });
    expect(await send(500)).toEqual({ status: 200, body: '500', sentBody: true });
  });

  it('drops the request to the instance when its client goes away mid-answer', async () => {
    let upstreamClosed: () => void = () => {};
    const closed = new Promise<void>((r) => {
      upstreamClosed = r;
    });
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part, the rest never comes');
      res.on('close', () => upstreamClosed());
    });
    const base = await proxyTo([{ id: 'u', port: await listen(upstream) }]);
    const controller = new AbortController();
    const res = await fetch(base, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(
      Promise.race([
        closed.then(() => 'closed'),
        new Promise((r) => setTimeout(r, 2_000, 'still open')),
      ]),
    ).resolves.toBe('closed');
  });

  it('refuses options it cannot run with, by code', () => {
    const bad = [
      { targets: [] },
      { targets: [{ id: 'a', host: '127.0.0.1', port: 0 }] },
      { targets: [{ id: 'a', host: '127.0.0.1', port: 80 }], timeout: 0 },
    ];
    for (const options of bad) {
      expect(() => createRoundRobinProxy(options)).toThrow(ClusterError);
      try {
        createRoundRobinProxy(options);
      } catch (err) {
        expect((err as ClusterError).code).toBe('ERR_CLUSTER_INVALID_OPTION');
      }
    }
  });
});

describe('the cluster script settings', () => {
  it('needs REDIS_URL, and says how to get one', () => {
    expect(() => clusterConfigFromEnv({})).toThrow(/REDIS_URL is not set/);
    expect(() => clusterConfigFromEnv({ REDIS_URL: 'http://x' })).toThrow(/redis:\/\//);
  });

  it('puts three instances above PORT, and trusts the one proxy in front of them', () => {
    const c = clusterConfigFromEnv({
      REDIS_URL: 'redis://127.0.0.1:6379',
      KEYRING_ENCRYPTION_KEY: 'k'.repeat(44),
      PORT: '4000',
    });
    expect(c.port).toBe(4000);
    expect(c.instancePorts).toEqual([4001, 4002, 4003]);
    expect(c.env).toMatchObject({ TRUST_PROXY: '1', KEYRING_ENCRYPTION_KEY: 'k'.repeat(44) });
    expect(c.env.REDIS_PREFIX).toBeUndefined();
    expect(c.notices).toEqual([
      'BACKUP_ENCRYPTION_KEY is not set: generated one for this run, given to every instance',
    ]);
  });

  it('generates a sealing key for the run when none is set, and says so (never printing it)', () => {
    const c = clusterConfigFromEnv({ REDIS_URL: 'redis://127.0.0.1:6379' });
    const key = c.env.KEYRING_ENCRYPTION_KEY!;
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(Buffer.from(c.env.BACKUP_ENCRYPTION_KEY!, 'base64url')).toHaveLength(32);
    expect(c.notices.join('\n')).not.toContain(c.env.BACKUP_ENCRYPTION_KEY);
    expect(c.env.REDIS_PREFIX).toMatch(/^example-service-[0-9a-f]{6}$/);
    expect(c.notices.join('\n')).toMatch(/KEYRING_ENCRYPTION_KEY is not set/);
    expect(c.notices.join('\n')).not.toContain(key);
  });

  it('refuses ports that clash or do not exist, and counts out of range', () => {
    const redis = { REDIS_URL: 'redis://127.0.0.1:6379', KEYRING_ENCRYPTION_KEY: 'x' };
    expect(() => clusterConfigFromEnv({ ...redis, PORT: '70000' })).toThrow(ClusterError);
    expect(() => clusterConfigFromEnv({ ...redis, PORT: '65535' })).toThrow(/no room/);
    expect(() =>
      clusterConfigFromEnv({ ...redis, PORT: '3000', INSTANCE_PORTS: '3000,3001' }),
    ).toThrow(/must all differ/);
    expect(() => clusterConfigFromEnv({ ...redis, INSTANCES: '0' })).toThrow(/INSTANCES/);
    expect(clusterConfigFromEnv({ ...redis, INSTANCE_PORTS: '5001,5002' }).instancePorts).toEqual([
      5001, 5002,
    ]);
  });
});
