export { type Alerts, createAlerts, createAlertsFromEnv } from './alerts.js';
export { AlertsError, AlertsErrorCode, isAlertsError } from './errors.js';
export type {
  AlertDetails,
  AlertKind,
  CaptureContext,
  KnownAlertKind,
  Severity,
  Tags,
} from './event.js';
export { type AlertsEventName, type AlertsEvents, diagnosticsChannels } from './events.js';
export {
  type AlertsLike,
  type AlertsShutdownCloser,
  type AlertsShutdownOptions,
  alertsShutdown,
  attachBreakerAlerts,
  attachHealthAlerts,
  attachRateLimitAlerts,
  type BreakerAlertOptions,
  type BreakerLike,
  type HealthAlertOptions,
  type HealthLike,
  type RateLimitAlertOptions,
  type RateLimiterLike,
} from './integrations.js';
export type { AlertsOptions } from './options.js';
export { isWrappedSecret, scrub, scrubString } from './scrub.js';
