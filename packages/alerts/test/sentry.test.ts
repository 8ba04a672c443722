import { createAlerts } from '@org/alerts';
import { type SentrySink, startSentrySink } from '@org/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let sink: SentrySink;
beforeEach(async () => {
  sink = await startSentrySink();
});
afterEach(async () => {
  await sink.close();
});

type Payload = {
  level: string;
  tags: Record<string, string>;
  fingerprint: string[];
  message?: string;
  environment?: string;
  release?: string;
  extra?: Record<string, unknown>;
  breadcrumbs?: { message?: string }[];
  exception?: {
    values: {
      type: string;
      value: string;
      stacktrace?: { frames: { function?: string; filename?: string }[] };
    }[];
  };
};
const events = () =>
  sink.envelopes.flatMap((e) =>
    e.items.filter((i) => i.header.type === 'event').map((i) => i.payload as Payload),
  );

describe('sending to Sentry', () => {
  it('delivers an event with level, tags, fingerprint, frames and breadcrumbs', async () => {
    const alerts = createAlerts({
      dsn: sink.dsn,
      environment: 'test',
      release: '1.2.3',
      tags: { service: 'api' },
    });
    expect(alerts.destination).toBe('sentry');
    alerts.addBreadcrumb({ category: 'http', message: 'GET /orders' });
    function chargeCard() {
      return new Error('card declined for order 1234');
    }
    expect(
      alerts.captureException(chargeCard(), {
        level: 'fatal',
        tags: { tier: 'pro' },
        fingerprint: ['charge'],
      }),
    ).toBe(true);
    await alerts.flush('2s');
    const [e] = events();
    expect(e).toBeDefined();
    expect(e!.level).toBe('fatal');
    expect(e!.tags).toMatchObject({ service: 'api', tier: 'pro' });
    expect(e!.fingerprint).toEqual(['charge']);
    expect(e!.environment).toBe('test');
    expect(e!.release).toBe('1.2.3');
    expect(e!.breadcrumbs?.[0]?.message).toBe('GET /orders');
    const ex = e!.exception!.values[0]!;
    expect(ex.type).toBe('Error');
    expect(ex.value).toBe('card declined for order 1234');
    expect(ex.stacktrace!.frames.some((f) => f.function === 'chargeCard')).toBe(true);
    await alerts.close();
  });

  it('sends alerts of each known kind with their default level and kind tag', async () => {
    const alerts = createAlerts({ dsn: sink.dsn });
    alerts.alert('payment_failure', { message: 'Stripe charge failed', data: { amount: 1200 } });
    alerts.alert('security_event', { message: 'many logins for one id' });
    alerts.alert('nightly_job', { message: 'late', level: 'info' });
    await alerts.flush('2s');
    const got = events();
    expect(got.map((e) => [e.tags['alert.kind'], e.level, e.message])).toEqual([
      ['payment_failure', 'error', 'Stripe charge failed'],
      ['security_event', 'warning', 'many logins for one id'],
      ['nightly_job', 'info', 'late'],
    ]);
    expect(got[0]!.extra).toMatchObject({ amount: 1200 });
    await alerts.close();
  });

  it('throttles 10,000 identical errors to max events plus one summary with the suppressed count', async () => {
    const alerts = createAlerts({ dsn: sink.dsn, throttle: { max: 5, window: '1m' } });
    for (let i = 0; i < 10_000; i++) alerts.captureException(new Error(`timeout after ${i} ms`));
    for (let i = 0; i < 3; i++) alerts.captureException(new TypeError('other'));
    await alerts.flush('5s');
    const got = events();
    const main = got.filter((e) => e.exception?.values[0]?.type === 'Error');
    const plain = main.filter((e) => e.tags['alert.summary'] === undefined);
    const summaries = main.filter((e) => e.tags['alert.summary'] === 'true');
    expect(plain).toHaveLength(5);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.extra?.suppressed).toBe(9_995);
    expect(got.filter((e) => e.exception?.values[0]?.type === 'TypeError')).toHaveLength(3);
    await alerts.close();
  });
});
