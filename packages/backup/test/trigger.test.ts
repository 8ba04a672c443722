import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackupError, BackupErrorCode, isBackupError } from '../src/errors.js';
import {
  type BackupRunRequest,
  type BackupTrigger,
  type BackupTriggerOptions,
  createBackupTrigger,
} from '../src/trigger.js';

const TOKEN = 'tok_3f9a1c77e0b24d5d8e61f0a9b2c4d6e8';

/** A run the test settles by hand. */
function deferredRun() {
  const calls: BackupRunRequest[] = [];
  const pending: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const run = (req: BackupRunRequest) => {
    calls.push(req);
    return new Promise<unknown>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { run, calls, pending };
}

const open: { server: Server; trigger: BackupTrigger<unknown> }[] = [];
afterEach(async () => {
  for (const { server, trigger } of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await trigger.close();
  }
});

async function serve(options: Partial<BackupTriggerOptions> & Pick<BackupTriggerOptions, 'run'>) {
  const trigger = createBackupTrigger({ token: TOKEN, closeTimeout: '200ms', ...options });
  const server = createServer(trigger.handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open.push({ server, trigger });
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const call = async (
    method: string,
    path: string,
    init: { token?: string | null; body?: string; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== null) headers['x-backup-token'] = init.token ?? TOKEN;
    const res = await fetch(base + path, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: text ? JSON.parse(text) : undefined,
    };
  };
  return { trigger, server, base, call };
}

/** Sends raw bytes; resolves the status line. */
function raw(base: string, bytes: string): Promise<string> {
  const port = Number(new URL(base).port);
  return new Promise((resolve) => {
    let reply = '';
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    s.setTimeout(5000, () => s.destroy());
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      reply += d;
    });
    s.on('error', () => {});
    s.on('close', () => resolve(reply.split('\r\n')[0] ?? ''));
  });
}

const until = async (fn: () => boolean) => {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(fn()).toBe(true);
};

describe('createBackupTrigger: options', () => {
  const run = async () => undefined;
  it.each<[string, Record<string, unknown>]>([
    ['a short token', { token: 'x'.repeat(31), run }],
    ['a token that is no string', { token: 12345, run }],
    ['no run', { token: TOKEN }],
    ['maxHistory 0', { token: TOKEN, run, maxHistory: 0 }],
    ['a path with a trailing slash', { token: TOKEN, run, path: '/backup/' }],
    ['a relative path', { token: TOKEN, run, path: 'backup' }],
    ['a malformed closeTimeout', { token: TOKEN, run, closeTimeout: '10 parsecs' }],
    ['targets that are not names', { token: TOKEN, run, targets: ['r2', 'a b'] }],
    ['a clock without now', { token: TOKEN, run, clock: {} }],
  ])('refuses %s with ERR_BACKUP_INVALID_OPTION', (_, options) => {
    let caught: unknown;
    try {
      createBackupTrigger(options as unknown as BackupTriggerOptions);
    } catch (err) {
      caught = err;
    }
    expect(isBackupError(caught, 'ERR_BACKUP_INVALID_OPTION')).toBe(true);
  });

  it('never echoes the token it refuses', () => {
    const short = 'hunter2-secret-value-0123456789';
    expect(() => createBackupTrigger({ token: short, run })).toThrow(/at least 32 characters/);
    try {
      createBackupTrigger({ token: short, run });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('hunter2');
    }
  });
});

describe('createBackupTrigger over HTTP', () => {
  it('POST starts a run (202, Location), GET follows it to its result', async () => {
    let now = Date.parse('2026-12-04T03:00:00Z');
    const d = deferredRun();
    const { call } = await serve({ run: d.run, clock: { now: () => now } });
    const started = await call('POST', '/backup', {
      body: JSON.stringify({ target: 'r2', tag: 'pre-deploy' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(started.status).toBe(202);
    expect(started.json).toEqual({ runId: expect.any(String), status: 'running' });
    expect(started.headers.get('location')).toBe(`/backup/${started.json.runId}`);
    expect(started.headers.get('cache-control')).toBe('no-store');
    expect(d.calls).toHaveLength(1);
    expect(d.calls[0]).toMatchObject({ target: 'r2', tag: 'pre-deploy' });
    expect(d.calls[0]!.signal).toBeInstanceOf(AbortSignal);

    const running = await call('GET', started.headers.get('location')!);
    expect(running.json).toEqual({
      runId: started.json.runId,
      status: 'running',
      target: 'r2',
      tag: 'pre-deploy',
      startedAt: '2026-12-04T03:00:00.000Z',
    });

    now += 90_000;
    d.pending[0]!.resolve({ targets: { r2: 'ok' }, bytes: 123 });
    await until(() => d.pending.length === 1);
    let done = await call('GET', `/backup/${started.json.runId}`);
    for (let i = 0; done.json.status === 'running' && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 5));
      done = await call('GET', `/backup/${started.json.runId}`);
    }
    expect(done.json).toEqual({
      runId: started.json.runId,
      status: 'succeeded',
      target: 'r2',
      tag: 'pre-deploy',
      startedAt: '2026-12-04T03:00:00.000Z',
      finishedAt: '2026-12-04T03:01:30.000Z',
      durationMs: 90_000,
      result: { targets: { r2: 'ok' }, bytes: 123 },
    });
  });

  it('one run at a time: a second POST gets 409 with the running id; after it, a new run starts', async () => {
    const d = deferredRun();
    const { call, trigger } = await serve({ run: d.run });
    const first = await call('POST', '/backup');
    const second = await call('POST', '/backup', { body: '{}' });
    expect(second.status).toBe(409);
    expect(second.json).toEqual({ error: 'a backup is already running', runId: first.json.runId });
    expect(d.calls).toHaveLength(1);
    expect(trigger.current()?.runId).toBe(first.json.runId);
    d.pending[0]!.resolve(undefined);
    await until(() => trigger.current() === undefined);
    const third = await call('POST', '/backup');
    expect(third.status).toBe(202);
    expect(third.json.runId).not.toBe(first.json.runId);
  });

  it('concurrent POSTs start exactly one run', async () => {
    const d = deferredRun();
    const { call } = await serve({ run: d.run });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call('POST', '/backup', { body: JSON.stringify({ tag: `t${i}` }) }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    expect(d.calls).toHaveLength(1);
  });

  it('a failed run reads as failed with its code and a scrubbed message', async () => {
    const d = deferredRun();
    const { call, trigger } = await serve({ run: d.run });
    const a = await call('POST', '/backup');
    d.pending[0]!.reject(
      new BackupError(
        BackupErrorCode.InvalidOption,
        `upload to s3 failed for postgres://app:pa55word@db:5432/app with token ${TOKEN}`,
      ),
    );
    await until(() => trigger.current() === undefined);
    const state = (await call('GET', `/backup/${a.json.runId}`)).json;
    expect(state.status).toBe('failed');
    expect(state.error.code).toBe('ERR_BACKUP_INVALID_OPTION');
    expect(state.error.message).toMatch(/upload to s3 failed/);
    expect(state.error.message).not.toContain('pa55word');
    expect(state.error.message).not.toContain(TOKEN);
    expect(state.finishedAt).toEqual(expect.any(String));
  });

  it('a run that throws at once, or rejects with a non-error, is a failed run, not a crash', async () => {
    let mode = 0;
    const { call, trigger } = await serve({
      run: () => {
        mode++;
        if (mode === 1) throw new Error('boom');
        return Promise.reject('plain string');
      },
    });
    for (const message of ['boom', 'plain string']) {
      const a = await call('POST', '/backup');
      expect(a.status).toBe(202);
      await until(() => trigger.current() === undefined);
      expect(trigger.get(a.json.runId)?.error).toEqual({ code: 'ERR_BACKUP_RUN_FAILED', message });
    }
  });

  it('a wrong or missing token is 401 on every route, with one answer and no hint', async () => {
    const d = deferredRun();
    const { call } = await serve({ run: d.run });
    const started = await call('POST', '/backup');
    const answers = await Promise.all([
      call('POST', '/backup', { token: null }),
      call('POST', '/backup', { token: '' }),
      call('POST', '/backup', { token: `${TOKEN.slice(0, -1)}x` }),
      call('POST', '/backup', { token: `${TOKEN}x` }),
      call('POST', '/backup', { token: 'x'.repeat(8000) }),
      call('GET', `/backup/${started.json.runId}`, { token: null }),
      call('GET', '/backup/00000000-0000-0000-0000-000000000000', { token: 'nope' }),
      call('HEAD', `/backup/${started.json.runId}`, { token: TOKEN.toUpperCase() }),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(401));
    for (const a of answers.slice(0, -1)) {
      expect(a.json).toEqual({ error: 'unauthorized' });
      expect(a.text).not.toContain(TOKEN);
    }
    expect(d.calls).toHaveLength(1);
  });

  it('validates and bounds the body before starting anything', async () => {
    const d = deferredRun();
    const { call, base } = await serve({ run: d.run, targets: ['r2', 's3', 'all'] });
    const json = { 'content-type': 'application/json' };
    const cases: [string, Record<string, string>, number][] = [
      ['not json', json, 400],
      ['[1,2]', json, 400],
      ['"r2"', json, 400],
      ['{"target":"gcs"}', json, 400],
      ['{"target":"../etc"}', {}, 400],
      ['{"target":5}', json, 400],
      ['{"tag":"has space"}', json, 400],
      [`{"tag":"${'x'.repeat(64)}"}`, json, 400],
      ['{"target":"r2","extra":1}', json, 400],
      ['{"target":"r2"}', { 'content-type': 'multipart/form-data; boundary=x' }, 415],
      ['{"target":"r2"}', { 'content-type': 'text/html' }, 415],
      [JSON.stringify({ tag: 'x'.repeat(5000) }), json, 413],
    ];
    for (const [body, headers, status] of cases) {
      const a = await call('POST', '/backup', { body, headers });
      expect([body.slice(0, 20), a.status]).toEqual([body.slice(0, 20), status]);
      expect(a.json.error).toEqual(expect.any(String));
    }
    // A chunked body past the bound, without Content-Length.
    const chunk = 'a'.repeat(3000);
    const chunked = await raw(
      base,
      `POST /backup HTTP/1.1\r\nHost: x\r\nX-Backup-Token: ${TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `bb8\r\n${chunk}\r\nbb8\r\n${chunk}\r\n0\r\n\r\n`,
    );
    expect(chunked).toBe('HTTP/1.1 413 Payload Too Large');
    expect(d.calls).toHaveLength(0);
    // What `curl -d` sends: the label is form, the body JSON.
    const ok = await call('POST', '/backup', {
      body: ' {"target":"all"} ',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(ok.status).toBe(202);
    expect(d.calls[0]).toMatchObject({ target: 'all', tag: undefined });
  });

  it('routes: 404 elsewhere, 405 with Allow, 400 for a target that is no path, HEAD without a body', async () => {
    const d = deferredRun();
    const { call, base } = await serve({ run: d.run });
    const started = await call('POST', '/backup');
    const id = started.json.runId;
    expect((await call('GET', '/backup')).headers.get('allow')).toBe('POST');
    expect((await call('GET', '/backup')).status).toBe(405);
    expect((await call('DELETE', `/backup/${id}`)).status).toBe(405);
    expect((await call('PUT', `/backup/${id}`)).headers.get('allow')).toBe('GET, HEAD');
    expect((await call('GET', '/')).status).toBe(404);
    expect((await call('GET', '/backups')).status).toBe(404);
    expect((await call('GET', '/backup/')).status).toBe(404);
    expect((await call('GET', '/backup/a/b')).status).toBe(404);
    expect((await call('GET', '/backup/%2e%2e')).status).toBe(404);
    const unknown = await call('GET', '/backup/00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    const head = await call('HEAD', `/backup/${id}`);
    expect([head.status, head.text]).toEqual([200, '']);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(10);
    const q = await call('GET', `/backup/${id}?x=1`);
    expect(q.json.runId).toBe(id);
    for (const target of ['*', '//', 'http://[::1/', 'backup']) {
      expect(
        await raw(base, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
      ).toBe('HTTP/1.1 400 Bad Request');
    }
    expect(
      await raw(
        base,
        `GET http://127.0.0.1/backup/${id} HTTP/1.1\r\nHost: x\r\nX-Backup-Token: ${TOKEN}\r\nConnection: close\r\n\r\n`,
      ),
    ).toBe('HTTP/1.1 200 OK');
  });

  it('as middleware, hands other paths to next(); `path` moves the routes', async () => {
    const trigger = createBackupTrigger({ token: TOKEN, run: async () => 1, path: '/ops/backup' });
    const server = createServer((req, res) =>
      trigger.handler(req, res, () => res.writeHead(299).end('next')),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    open.push({ server, trigger });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const other = await fetch(`${base}/backup`, { method: 'POST' });
    expect([other.status, await other.text()]).toEqual([299, 'next']);
    const started = await fetch(`${base}/ops/backup`, {
      method: 'POST',
      headers: { 'x-backup-token': TOKEN },
    });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toMatch(/^\/ops\/backup\/[0-9a-f-]{36}$/);
    // Its own paths are answered, not handed on, whatever the method or token.
    expect((await fetch(`${base}/ops/backup`)).status).toBe(405);
    expect((await fetch(`${base}/ops/backup`, { method: 'POST' })).status).toBe(401);
  });

  it('keeps a bounded history: the oldest finished runs leave it', async () => {
    const { call, trigger } = await serve({ run: async () => 'ok', maxHistory: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await call('POST', '/backup')).json.runId);
      await until(() => trigger.current() === undefined);
    }
    expect((await call('GET', `/backup/${ids[0]}`)).status).toBe(404);
    expect((await call('GET', `/backup/${ids[1]}`)).json.status).toBe('succeeded');
    expect((await call('GET', `/backup/${ids[2]}`)).json.result).toBe('ok');
  });

  it('current() and get() hand out copies', async () => {
    const d = deferredRun();
    const { call, trigger } = await serve({ run: d.run });
    const id = (await call('POST', '/backup')).json.runId;
    const snapshot = trigger.current()!;
    snapshot.status = 'failed';
    expect(trigger.get(id)!.status).toBe('running');
    expect(trigger.get('nope')).toBeUndefined();
  });
});

describe('createBackupTrigger: close()', () => {
  it('aborts the running run, waits for it, then refuses new runs with 503', async () => {
    let seen: unknown;
    let finished = false;
    const { call, trigger } = await serve({
      run: ({ signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            seen = signal.reason;
            setTimeout(() => {
              finished = true;
              reject(signal.reason);
            }, 30);
          });
        }),
    });
    const id = (await call('POST', '/backup')).json.runId;
    await trigger.close();
    expect(finished).toBe(true);
    expect(seen).toMatchObject({ code: 'ERR_ABORTED' });
    expect(trigger.get(id)).toMatchObject({ status: 'failed', error: { code: 'ERR_ABORTED' } });
    const after = await call('POST', '/backup');
    expect(after.status).toBe(503);
    expect(after.headers.get('retry-after')).toBe('60');
    await trigger.close(); // idempotent
  });

  it('waits no longer than closeTimeout for a run that ignores its signal', async () => {
    const { call, trigger } = await serve({
      run: () => new Promise(() => {}),
      closeTimeout: '100ms',
    });
    await call('POST', '/backup');
    const t0 = performance.now();
    await trigger.close();
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(90);
    expect(waited).toBeLessThan(1000);
  });
});

describe('createBackupTrigger: fetch()', () => {
  const url = (p: string) => `http://service.local${p}`;
  it('serves the same routes to web-standard requests', async () => {
    const d = deferredRun();
    const trigger = createBackupTrigger({ token: TOKEN, run: d.run });
    const headers = { 'x-backup-token': TOKEN, 'content-type': 'application/json' };
    const a = await trigger.fetch(
      new Request(url('/backup'), { method: 'POST', headers, body: '{"tag":"pre-deploy"}' }),
    );
    expect(a.status).toBe(202);
    const { runId } = (await a.json()) as { runId: string };
    expect(a.headers.get('location')).toBe(`/backup/${runId}`);
    expect(d.calls[0]?.tag).toBe('pre-deploy');
    const busy = await trigger.fetch(new Request(url('/backup'), { method: 'POST', headers }));
    expect(busy.status).toBe(409);
    const denied = await trigger.fetch(new Request(url(`/backup/${runId}`)));
    expect(denied.status).toBe(401);
    const state = await trigger.fetch(new Request(url(`/backup/${runId}`), { headers }));
    expect(await state.json()).toMatchObject({ runId, status: 'running' });
    const head = await trigger.fetch(
      new Request(url(`/backup/${runId}`), { method: 'HEAD', headers }),
    );
    expect([head.status, await head.text()]).toEqual([200, '']);
    d.pending[0]!.resolve(1);
    await until(() => trigger.current() === undefined);
    const big = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(1000).fill(32));
        c.close();
      },
    });
    const tooBig = await trigger.fetch(
      new Request(url('/backup'), {
        method: 'POST',
        headers,
        body: big,
        duplex: 'half',
      } as RequestInit),
    );
    expect(tooBig.status).toBe(413);
    expect((await trigger.fetch(new Request(url('/nope')))).status).toBe(404);
    await trigger.close();
  });

  it('a body that never ends is cut at the body timeout (408), not awaited forever', async () => {
    const trigger = createBackupTrigger({ token: TOKEN, run: async () => 1 });
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array([123]));
      },
    });
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const pending = trigger.fetch(
        new Request(url('/backup'), {
          method: 'POST',
          headers: { 'x-backup-token': TOKEN },
          body: stalled,
          duplex: 'half',
        } as RequestInit),
      );
      await vi.advanceTimersByTimeAsync(10_001);
      expect((await pending).status).toBe(408);
    } finally {
      vi.useRealTimers();
    }
    await trigger.close();
  });
});
