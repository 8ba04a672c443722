export {
  AbortedError,
  abortable,
  abortReason,
  isAbortedError,
  isTimeoutError,
  type LinkedController,
  linkSignals,
  sleep,
  TimeoutError,
  throwIfAborted,
  type WithTimeoutOptions,
  withTimeout,
} from './abort.js';
export { type Clock, systemClock } from './clock.js';
export {
  DURATION_HINT,
  type Duration,
  type DurationString,
  type DurationUnit,
  formatDuration,
  parseDuration,
  showValue,
  toMs,
} from './duration.js';
export {
  channelName,
  Emitter,
  type EventMap,
  type Events,
  type Listener,
  type Unsubscribe,
} from './emitter.js';
export {
  CoreErrorCode,
  describeError,
  errorGuard,
  isOrgError,
  OrgError,
  type OrgErrorOptions,
} from './errors.js';
export { type OptionChecks, type OptionErrorFactory, optionChecks } from './options.js';
export {
  isWrappedSecret,
  type ScrubMode,
  type ScrubOptions,
  scrub,
  scrubString,
} from './scrub.js';
export {
  type AddInstrument,
  createTelemetry,
  DURATION_BOUNDARIES,
  errorType,
  type InstrumentSpec,
  type Instruments,
  type ObservableCallback,
  type ObservableKey,
  type ObservableKind,
  type ObservableResult,
  type RecordInstrument,
  SIZE_BOUNDARIES,
  type SpanOptions,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySpan,
} from './telemetry.js';
