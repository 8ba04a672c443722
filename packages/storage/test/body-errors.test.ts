import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OrgError } from '@org/core';
import {
  createLocalDriver,
  createStorage,
  isStorageError,
  type Storage,
  type StorageDriver,
  StorageErrorCode,
} from '@org/storage';
import { createS3Driver } from '@org/storage/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localHarness } from './harness.js';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** A stream that yields `chunks`, then fails with `error`. */
function failingBody(chunks: Buffer[], error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield* chunks;
      throw error;
    })(),
  );
}

/** Every file under `dir`, recursively, relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * An app that stores each request's body with `storage.put(key, req)`, and a client that sends
 * half of a declared body and then drops the connection: what the put rejects with.
 */
async function clientGoneMidUpload(storage: Storage, key: string): Promise<unknown> {
  let settle!: (err: unknown) => void;
  const outcome = new Promise<unknown>((resolve) => {
    settle = resolve;
  });
  const server: Server = createServer((req, res) => {
    storage.put(key, req).then(
      () => {
        settle(undefined);
        res.end();
      },
      (err: unknown) => {
        settle(err);
        res.destroy();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      headers: { 'content-length': 1_000_000 },
    });
    req.on('error', () => {});
    req.write(Buffer.alloc(64 * 1024, 1));
    await new Promise((r) => setTimeout(r, 50));
    req.destroy();
    return await outcome;
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/** The checks every driver passes, given the driver and how to list what it holds. */
function bodyFailureCases(setup: () => { driver: StorageDriver; stored: () => Promise<string[]> }) {
  it('driver.put: a failing Node or Web stream is ERR_STORAGE_BODY, its error the cause', async () => {
    const { driver, stored } = setup();
    const before = await stored();
    const gone = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(8));
        c.error(gone);
      },
    });
    for (const body of [failingBody([Buffer.alloc(10)], gone), web]) {
      const err = await rejection(driver.put('body/a.bin', body, {}));
      expect(isStorageError(err, StorageErrorCode.Body)).toBe(true);
      expect(err).toMatchObject({ key: 'body/a.bin', cause: gone });
      expect((err as Error).message).toMatch(
        /upload body .* failed before it ended \(ECONNRESET\)/,
      );
      // Not the backend's problem: nothing sends the operator after the disk or the network.
      expect((err as Error).message).not.toMatch(/permissions|free space|unreachable/);
    }
    // Nothing half-written stays behind: no object, no temporary file.
    expect(await stored()).toEqual(before);
  });

  it("driver.put: the app's own OrgError comes back unchanged", async () => {
    const { driver, stored } = setup();
    const before = await stored();
    const own = new OrgError('ERR_APP_TOO_LARGE', 'over the limit');
    expect(
      await rejection(driver.put('body/b.bin', failingBody([Buffer.alloc(10)], own), {})),
    ).toBe(own);
    expect(await stored()).toEqual(before);
  });

  it('storage.put(key, req): a client gone mid-upload is ERR_STORAGE_BODY, nothing stored', async () => {
    const { driver, stored } = setup();
    const before = await stored();
    const err = await clientGoneMidUpload(createStorage({ driver }), 'body/upload.bin');
    expect(isStorageError(err, StorageErrorCode.Body)).toBe(true);
    expect(await stored()).toEqual(before);
  });
}

describe('a failing upload body: local driver', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'org-storage-body-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  bodyFailureCases(() => ({
    driver: createLocalDriver({ root }),
    // Every file under the root: temporary files (`.~…`) and sidecars included.
    stored: () => files(root),
  }));

  it('a failing body after many chunks removes its temporary file', async () => {
    const driver = createLocalDriver({ root });
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(64 * 1024, 7));
    const err = await rejection(driver.put('big/x.bin', failingBody(chunks, new Error('x')), {}));
    expect(isStorageError(err, StorageErrorCode.Body)).toBe(true);
    expect((await files(root)).filter((f) => f.includes('.~') || f.includes('x.bin'))).toEqual([]);
  });
});

describe.runIf(motoAvailable)('a failing upload body: S3 driver on moto', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let driver: StorageDriver & { close?(): Promise<void> };
  let listAll: () => Promise<string[]>;
  beforeAll(async () => {
    moto = await startMoto();
    const bucket = await moto.bucket('body');
    driver = createS3Driver({
      bucket,
      ...motoConnection(moto.endpoint),
      partSize: 5 * 1024 * 1024,
    });
    const { ListObjectsV2Command, ListMultipartUploadsCommand } = await import(
      '@aws-sdk/client-s3'
    );
    listAll = async () => {
      const objects = await moto.admin.send(new ListObjectsV2Command({ Bucket: bucket }));
      const uploads = await moto.admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return [
        ...(objects.Contents ?? []).map((o) => `object:${o.Key}`),
        ...(uploads.Uploads ?? []).map((u) => `upload:${u.Key}`),
      ].sort();
    };
  });
  afterAll(async () => {
    await driver?.close?.();
    await moto?.stop();
  });
  bodyFailureCases(() => ({ driver, stored: () => listAll() }));

  it('a body failing past the first part aborts the multipart upload', async () => {
    const chunks = Array.from({ length: 7 * 16 }, () => Buffer.alloc(64 * 1024, 9));
    const gone = new Error('the client went away');
    const err = await rejection(driver.put('big/x.bin', failingBody(chunks, gone), {}));
    expect(err).toMatchObject({ code: 'ERR_STORAGE_BODY', cause: gone });
    expect(await listAll()).toEqual([]);
  });
});

describe('a failing upload body: the local signed-URL handler', () => {
  it('a client gone mid-way through a signed PUT leaves no temporary file and no object', async () => {
    const h = await localHarness();
    try {
      const ns = h.storage.namespace('uploads');
      const url = new URL(await ns.signedUrl('gone.bin', { method: 'PUT', expiresIn: '1m' }));
      // Chunked: no length to refuse up front, so the handler is mid-put when the client leaves.
      const req = request(url, { method: 'PUT' });
      req.on('error', () => {});
      req.write(Buffer.alloc(256 * 1024, 5));
      await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await expect.poll(() => h.leftovers(), { timeout: 2000 }).toEqual([]);
      expect(await ns.exists('gone.bin')).toBe(false);
      // The handler carries on: the next upload goes through.
      const ok = await fetch(url, { method: 'PUT', body: 'whole' });
      expect(ok.status).toBe(200);
      expect((await ns.getBuffer('gone.bin')).toString()).toBe('whole');
    } finally {
      await h.close();
    }
  });
});
