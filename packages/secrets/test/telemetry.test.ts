import { createSecrets } from '@org/secrets';
import { awsProvider } from '@org/secrets/aws';
import { type OtelHarness, startOtel } from '@org/test-utils';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fakeProvider, manualClock } from './fake-provider.js';
import { countingClient, motoAvailable, startMoto } from './moto.js';

let otel: OtelHarness;
beforeEach(() => {
  otel = startOtel(); // after @org/secrets was imported: late registration
});
afterEach(() => otel.close());

const FETCHES = 'org.secrets.fetches';
const flush = () => new Promise((r) => setImmediate(r));

describe('secrets telemetry', () => {
  it('counts fetches by outcome and code, and every read served stale', async () => {
    const fake = fakeProvider({ 'db-password': 'hunter2-secret' });
    const clock = manualClock();
    const secrets = createSecrets({
      provider: fake.provider,
      clock,
      ttl: '1m',
      maxStale: '10m',
      backoff: '1s',
    });
    await secrets.get('db-password');
    await secrets.get('db-password'); // cached: no fetch
    fake.state.failing = true;
    clock.advance(60_001);
    await secrets.get('db-password'); // the refresh fails: stale
    await secrets.get('db-password'); // within the backoff: stale, no fetch
    await secrets.get('no-such').catch(() => undefined);
    await flush();
    const fake1 = { 'org.secrets.provider': 'fake', 'org.secrets.fetch.mode': 'single' };
    expect(await otel.sum(FETCHES, { ...fake1, 'org.secrets.outcome': 'success' })).toBe(1);
    const failures = await otel.points(FETCHES, { ...fake1, 'org.secrets.outcome': 'failure' });
    expect(failures.map((p) => [p.attributes['error.type'], p.value])).toEqual([
      ['ERR_SECRETS_UNAVAILABLE', 2],
    ]);
    expect(await otel.sum('org.secrets.fetch.duration')).toBe(3);
    expect(await otel.sum('org.secrets.stale_serves', { 'org.secrets.provider': 'fake' })).toBe(2);
    const spans = otel.spans('secrets fetch');
    expect(spans).toHaveLength(3);
    expect(spans.filter((s) => s.status.code === 2)).toHaveLength(2);
    const everything = JSON.stringify([
      await otel.collect(),
      spans.map((s) => [s.attributes, s.events]),
    ]);
    expect(everything).not.toContain('hunter2');
    // The name is in no attribute (only in the exception message, as in the error thrown).
    const attributes = JSON.stringify([await otel.collect(), spans.map((s) => s.attributes)]);
    expect(attributes).not.toContain('db-password');
    await secrets.close();
  });

  it('counts a batch read as one fetch of mode batch', async () => {
    const fake = fakeProvider({ a: '1', b: '2' });
    const secrets = createSecrets({ provider: fake.provider });
    await secrets.preload(['a', 'b']);
    expect(
      await otel.sum(FETCHES, {
        'org.secrets.fetch.mode': 'batch',
        'org.secrets.outcome': 'success',
      }),
    ).toBe(1);
    expect(otel.spans('secrets fetch batch')).toHaveLength(1);
    await secrets.close();
  });
});

describe.runIf(motoAvailable)('secrets telemetry on AWS (moto)', () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('a fetch is a client span under the caller’s, with the RPC attributes', async () => {
    const name = await moto.secret('gemini-key-1');
    const secrets = createSecrets({
      provider: awsProvider({ client: countingClient(moto.endpoint).client }),
    });
    const parent = await otel.inSpan('request', () => secrets.get(name));
    const [span] = otel.spans('secrets fetch');
    expect(span?.parentSpanContext?.spanId).toBe(parent);
    expect(span?.kind).toBe(2); // CLIENT
    expect(span?.attributes).toMatchObject({
      'org.secrets.provider': 'aws',
      'rpc.system': 'aws-api',
      'rpc.service': 'SecretsManager',
      'rpc.method': 'GetSecretValue',
    });
    expect(
      await otel.sum(FETCHES, { 'org.secrets.provider': 'aws', 'org.secrets.outcome': 'success' }),
    ).toBe(1);
    await secrets.close();
  });
});
