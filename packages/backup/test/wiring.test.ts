import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import type { Storage } from '@org/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackupTarget,
  createBackup,
  createBackupTrigger,
  lastVerifiedBackupCheck,
  runForTrigger,
} from '../src/index.js';
import { fillDatabase, freshDatabase, localStorage, newKey, pgAvailable } from './harness.js';

const token = 'x'.repeat(16) + 'y'.repeat(16);

/** A target whose stream uploads always break. */
function broken(storage: Storage): BackupTarget {
  return {
    ...storage,
    put(key, body, options) {
      if (typeof body === 'string' || body instanceof Uint8Array)
        return storage.put(key, body, options);
      const cut = new Transform({ transform: (_c, _e, cb) => cb(new Error('disk unplugged')) });
      (body as NodeJS.ReadableStream).pipe(cut);
      return storage.put(key, cut, options);
    },
  };
}

async function serve(
  handler: (req: never, res: never) => void,
): Promise<{ url: string; server: Server }> {
  const server = createServer(handler as never);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function settled(
  url: string,
  runId: string,
): Promise<{ status: string; error?: { code: string } }> {
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${url}/backup/${runId}`, { headers: { 'x-backup-token': token } });
    const body = (await res.json()) as { status: string; error?: { code: string } };
    if (body.status !== 'running') return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run did not settle');
}

describe.runIf(pgAvailable)('the HTTP trigger wired to a backup', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  const servers: Server[] = [];
  beforeAll(async () => {
    source = await freshDatabase('src');
    await fillDatabase(source.url, 100);
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await source?.drop();
  });

  it('POST starts a run (202 with its id); the status route reports it succeeded and the backup lists', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk: await localStorage() },
      key: newKey(),
    });
    const trigger = createBackupTrigger({ token, run: runForTrigger(backup) });
    const { url, server } = await serve(trigger.handler);
    servers.push(server);
    const res = await fetch(`${url}/backup`, {
      method: 'POST',
      headers: { 'x-backup-token': token, 'content-type': 'application/json' },
      body: JSON.stringify({ tag: 'pre-deploy' }),
    });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    expect((await settled(url, runId)).status).toBe('succeeded');
    const [entry] = await backup.list();
    expect(entry).toMatchObject({ status: 'complete', tag: 'pre-deploy' });
    await trigger.close();
  });

  it('a partial run reads as failed with ERR_BACKUP_PARTIAL', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk: await localStorage(), usb: broken(await localStorage()) },
      key: newKey(),
    });
    const trigger = createBackupTrigger({ token, run: runForTrigger(backup) });
    const { url, server } = await serve(trigger.handler);
    servers.push(server);
    const res = await fetch(`${url}/backup`, {
      method: 'POST',
      headers: { 'x-backup-token': token },
    });
    const { runId } = (await res.json()) as { runId: string };
    const state = await settled(url, runId);
    expect(state).toMatchObject({ status: 'failed', error: { code: 'ERR_BACKUP_PARTIAL' } });
    expect((await backup.list({ target: 'disk' }))[0]!.status).toBe('complete');
    await trigger.close();
  });

  it('the health check reads the newest verified backup: none fails, a fresh one is ok', async () => {
    const backup = createBackup({
      database: { url: source.url },
      targets: { disk: await localStorage() },
      key: newKey(),
    });
    const check = lastVerifiedBackupCheck({
      lastVerifiedAt: (signal) => backup.lastVerifiedAt({ signal }),
      maxAge: '8d',
      cache: 0,
    });
    const signal = new AbortController().signal;
    await backup.run();
    // Backed up but never restore-tested: not good enough.
    expect((await check.check(signal)).status).toBe('fail');
    const test = await backup.verify();
    expect(test.ok).toBe(true);
    const outcome = await check.check(signal);
    expect(outcome.status).toBe('ok');
    expect(outcome.details.lastVerifiedAt).toBe(test.verifiedAt!.toISOString());
  });
});
