import { createAlerts } from '@org/alerts';
import { type SentrySink, startSentrySink } from '@org/test-utils';
import {
  createStackParser,
  createTransport,
  type Event,
  getCurrentScope,
  getIsolationScope,
  nodeStackLineParser,
  parseEnvelope,
  ServerRuntimeClient,
} from '@sentry/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/** An app's own Sentry setup, as `Sentry.init` leaves it: a current client, tags, an integration. */
function appSentry() {
  const sent: Event[] = [];
  let setupCalls = 0;
  const client = new ServerRuntimeClient({
    dsn: 'http://appkey@127.0.0.1:9/2',
    integrations: [{ name: 'AppIntegration', setupOnce: () => {}, setup: () => void setupCalls++ }],
    stackParser: createStackParser(nodeStackLineParser()),
    transport: (o) =>
      createTransport(o, (req) => {
        for (const [, payload] of parseEnvelope(req.body)[1]) sent.push(payload as Event);
        return Promise.resolve({ statusCode: 200 });
      }),
  });
  getCurrentScope().setClient(client);
  client.init();
  getCurrentScope().setTag('app', 'yes');
  getIsolationScope().setUser({ id: 'u1' });
  return { client, sent, setupCalls: () => setupCalls };
}

let sink: SentrySink;
beforeEach(async () => {
  sink = await startSentrySink();
});
afterEach(async () => {
  await sink.close();
  getCurrentScope().clear();
  getCurrentScope().setClient(undefined);
  getIsolationScope().clear();
});

describe("the app's own Sentry client", () => {
  it('is untouched by an alerts instance with its own DSN: scope, integrations, events', async () => {
    const app = appSentry();
    const integrations = app.client.getOptions().integrations.map((i) => i.name);
    const alerts = createAlerts({ dsn: sink.dsn, tags: { from: 'alerts' } });
    alerts.addBreadcrumb({ message: 'alerts crumb' });
    alerts.captureException(new Error('from the SDK'));
    await alerts.flush('2s');

    expect(getCurrentScope().getClient()).toBe(app.client);
    expect(getCurrentScope().getScopeData().tags).toEqual({ app: 'yes' });
    expect(getCurrentScope().getScopeData().breadcrumbs).toEqual([]);
    expect(app.client.getOptions().integrations.map((i) => i.name)).toEqual(integrations);
    expect(app.setupCalls()).toBe(1);
    expect(app.sent).toHaveLength(0);

    // The app's event goes to the app only; ours carries none of the app's scope.
    app.client.captureException(new Error('from the app'), undefined, getCurrentScope());
    await app.client.flush(1000);
    expect(app.sent.map((e) => e.exception?.values?.[0]?.value)).toEqual(['from the app']);
    expect(app.sent[0]!.tags).toEqual({ app: 'yes' });
    const ours = sink.envelopes.flatMap((e) => e.items.map((i) => i.payload as Event));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.tags).toEqual({ from: 'alerts' });
    expect(ours[0]!.user).toBeUndefined();
    await alerts.close();
    expect(getCurrentScope().getClient()).toBe(app.client);
  });

  it('passed as `client`: events go through it with a scope of ours, and close() leaves it open', async () => {
    const app = appSentry();
    const alerts = createAlerts({ client: app.client });
    expect(alerts.destination).toBe('client');
    alerts.alert('circuit_breaker', { message: 'stripe opened', tags: { breaker: 'stripe' } });
    await alerts.flush('1s');
    await app.client.flush(1000);
    expect(app.sent).toHaveLength(1);
    expect(app.sent[0]!.tags).toMatchObject({ 'alert.kind': 'circuit_breaker', breaker: 'stripe' });
    expect(getCurrentScope().getScopeData().tags).toEqual({ app: 'yes' });
    await alerts.close();
    app.client.captureMessage('still open');
    await app.client.flush(1000);
    expect(app.sent).toHaveLength(2);
    expect(sink.envelopes).toHaveLength(0);
  });
});
