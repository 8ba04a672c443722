import { createStorage } from '@org/storage';
import { type OtelHarness, startOtel } from '@org/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { code, localHarness } from './harness.js';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/storage was imported: late registration
});
afterEach(() => otel.close());

const DURATION = 'org.storage.operation.duration';
const BYTES = 'org.storage.bytes';

describe('storage telemetry on the local driver', () => {
  it('records each call’s duration and bytes by driver and operation, and spans under the caller’s', async () => {
    const h = await localHarness();
    try {
      const pdfs = h.storage.namespace('pdfs');
      const parent = await otel.inSpan('request', async () => {
        await pdfs.put('user-42/invoice.pdf', Buffer.alloc(1234, 1));
      });
      expect((await pdfs.getBuffer('user-42/invoice.pdf')).length).toBe(1234);
      expect(await code(pdfs.head('user-42/missing.pdf'))).toBe('ERR_STORAGE_NOT_FOUND');

      const local = { 'org.storage.driver': 'local' };
      expect(await otel.sum(BYTES, { ...local, 'org.storage.operation': 'put' })).toBe(1234);
      expect(await otel.sum(BYTES, { ...local, 'org.storage.operation': 'get' })).toBe(1234);
      expect(await otel.sum(DURATION, { ...local, 'org.storage.operation': 'put' })).toBe(1);
      expect(await otel.sum(DURATION, { ...local, 'org.storage.operation': 'getStream' })).toBe(1);
      const [missing] = await otel.points(DURATION, { 'org.storage.operation': 'head' });
      expect(missing?.attributes['error.type']).toBe('ERR_STORAGE_NOT_FOUND');
      expect(missing?.unit).toBe('s');

      const [put] = otel.spans('storage put');
      expect(put?.parentSpanContext?.spanId).toBe(parent);
      expect(put?.attributes).toEqual({
        'org.storage.driver': 'local',
        'org.storage.operation': 'put',
      });
      const [head] = otel.spans('storage head');
      expect(head?.status.code).toBe(2);
      expect(head?.attributes['error.type']).toBe('ERR_STORAGE_NOT_FOUND');
      // No key anywhere: not in the metrics, not in the spans.
      const all = JSON.stringify([await otel.collect(), otel.spans().map((s) => s.attributes)]);
      expect(all).not.toContain('user-42');
    } finally {
      await h.close();
    }
  });
});

describe.runIf(motoAvailable)('storage telemetry on S3 (moto)', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let proxy: FaultProxy;
  let bucket: string;
  beforeAll(async () => {
    moto = await startMoto();
    bucket = await moto.bucket('otel');
    proxy = await startFaultProxy(moto.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await moto?.stop();
  });

  it('counts retries by error, and puts client spans with the bucket', async () => {
    const storage = createStorage({
      s3: {
        bucket,
        ...motoConnection(proxy.endpoint),
        retry: { attempts: 4, minDelay: 5, maxDelay: 20 },
      },
      timeout: 10_000,
    });
    try {
      let left = 2;
      proxy.rule = () => (left-- > 0 ? 503 : 'forward');
      await storage.put('a.txt', 'survived');
      proxy.rule = () => 'forward';
      expect(await otel.sum('org.storage.retries', { 'org.storage.driver': 's3' })).toBe(2);
      expect(
        await otel.sum(BYTES, { 'org.storage.driver': 's3', 'org.storage.operation': 'put' }),
      ).toBe(8);
      const [put] = otel.spans('storage put');
      expect(put?.kind).toBe(2); // CLIENT
      expect(put?.attributes).toMatchObject({
        'org.storage.driver': 's3',
        'rpc.system': 'aws-api',
        'rpc.service': 'S3',
        'aws.s3.bucket': bucket,
      });
    } finally {
      await storage.close();
    }
  });
});
