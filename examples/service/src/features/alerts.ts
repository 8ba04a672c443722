import { type Alerts, alertsShutdown, createAlertsFromEnv } from '@org/alerts';
import type { Feature } from '../app.js';

let instance: Alerts | undefined;

/**
 * The service's alerts: to Sentry when `SENTRY_DSN` is set (a client of the package's own, never
 * the app's global one), else JSON lines on stderr. Throttled per fingerprint, scrubbed of
 * secrets, never blocking a request. The breaker, rate-limit and health features attach their
 * hooks to it; this feature is mounted before them.
 */
export function alerts(): Alerts {
  instance ??= createAlertsFromEnv({ throttle: { max: 5, window: '1m' } });
  return instance;
}

/** `POST /alerts/test` sends one alert, to show where alerts go. */
export const alertsFeature: Feature = (app) => {
  const a = alerts();
  app.route('POST', '/alerts/test', () => ({
    accepted: a.alert('external_service_error', { message: 'a test alert from the example' }),
  }));
  // At shutdown, after the features mounted later have closed (and may have alerted): what is
  // queued is sent within 2 s and the closer's bound, then the instance closes.
  const closer = alertsShutdown(a, { timeout: '2s' });
  app.onClose(async (signal) => {
    if (instance === a) instance = undefined;
    await closer(signal);
  });
};
