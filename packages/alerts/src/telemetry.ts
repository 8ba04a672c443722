/**
 * The alerts client's OpenTelemetry instruments (recorded only when the app registers an SDK;
 * see `createTelemetry` in @org/core). Attributes are the destination, the level and the reason:
 * never a message, a fingerprint or anything of the event.
 */
import { createTelemetry } from '@org/core';

export const telemetry = createTelemetry(
  { name: '@org/alerts' },
  {
    sent: {
      kind: 'counter',
      name: 'org.alerts.sent',
      unit: '{alert}',
      description: 'Alerts handed to the destination (Sentry, the app’s client, stderr), by level.',
    },
    throttled: {
      kind: 'counter',
      name: 'org.alerts.throttled',
      unit: '{alert}',
      description: 'Alerts held back because their fingerprint reached its maximum in the window.',
    },
    dropped: {
      kind: 'counter',
      name: 'org.alerts.dropped',
      unit: '{alert}',
      description: 'Alerts dropped: queue full, instance closed, or rejected by Sentry.',
    },
    sendFailures: {
      kind: 'counter',
      name: 'org.alerts.send.failures',
      unit: '{attempt}',
      description: 'Attempts to send that failed and will be retried (outage, 429, 5xx).',
    },
  },
);

/** Counts one alert sent. */
export function recordSent(destination: string, level: string | undefined): void {
  telemetry.metrics()?.sent.add(1, {
    'org.alerts.destination': destination,
    'org.alerts.level': level ?? 'error',
  });
}

/** Counts one alert held back by the throttle. */
export function recordThrottled(): void {
  telemetry.metrics()?.throttled.add(1);
}

/** Counts alerts dropped, by reason. */
export function recordDropped(reason: 'queueFull' | 'closed' | 'rejected', count = 1): void {
  telemetry.metrics()?.dropped.add(count, { 'org.alerts.drop.reason': reason });
}

/** Counts one failed attempt to send (retried later). */
export function recordSendFailure(destination: string, statusCode: number | undefined): void {
  telemetry.metrics()?.sendFailures.add(1, {
    'org.alerts.destination': destination,
    ...(statusCode === undefined ? {} : { 'http.response.status_code': statusCode }),
  });
}
