import { createAlerts } from '@org/alerts';
import {
  type OtelHarness,
  type SentrySink,
  startOtel,
  startSentrySink,
  waitFor,
} from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let otel: OtelHarness;
let sink: SentrySink;
beforeEach(async () => {
  sink = await startSentrySink();
  otel = startOtel(); // after @org/alerts was imported: late registration
});
afterEach(async () => {
  await otel.close();
  await sink.close();
});

describe('alerts telemetry', () => {
  it('counts alerts sent by destination and level, and those the throttle held back', async () => {
    const alerts = createAlerts({ dsn: sink.dsn, throttle: { max: 2, window: '1m' } });
    for (let i = 0; i < 5; i++)
      alerts.captureException(new Error('db down'), { fingerprint: ['db'] });
    alerts.captureException(new Error('slow'), { fingerprint: ['slow'], level: 'warning' });
    await alerts.flush('5s');
    expect(
      await otel.sum('org.alerts.sent', {
        'org.alerts.destination': 'sentry',
        'org.alerts.level': 'error',
      }),
    ).toBe(3); // two of 'db', then flush() sends the summary of the three held back
    expect(sink.envelopes).toHaveLength(4);
    expect(await otel.sum('org.alerts.sent', { 'org.alerts.level': 'warning' })).toBe(1);
    expect(await otel.sum('org.alerts.throttled')).toBe(3);
    const attributes = JSON.stringify((await otel.collect()).map((p) => p.attributes));
    expect(attributes).not.toMatch(/db down|slow"/);
    await alerts.close();
  });

  it('counts alerts dropped by a full queue, and failed sends by status, sending none', async () => {
    sink.respondWith(503);
    const alerts = createAlerts({
      dsn: sink.dsn,
      throttle: false,
      queue: { max: 2, maxBackoff: '1s' },
    });
    for (let i = 0; i < 5; i++) alerts.captureException(new Error(`e${i}`));
    await waitFor(
      'a failed send',
      async () => (await otel.sum('org.alerts.send.failures')) >= 1,
      5_000,
    );
    expect(
      await otel.sum('org.alerts.send.failures', {
        'org.alerts.destination': 'sentry',
        'http.response.status_code': 503,
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(await otel.sum('org.alerts.dropped', { 'org.alerts.drop.reason': 'queueFull' })).toBe(3);
    expect(await otel.sum('org.alerts.sent')).toBe(0);
    await alerts.close();
  });
});
