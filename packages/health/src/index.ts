export {
  type BreakerRegistry,
  type BreakersCheckOptions,
  breakersCheck,
} from './checks/breakers.js';
export {
  cacheCheck,
  type DependencyCheckOptions,
  dependencyCheck,
  type HealthReporter,
  storageCheck,
} from './checks/dependency.js';
export { type DiskCheckOptions, diskCheck } from './checks/disk.js';
export { type EventLoopCheckOptions, eventLoopCheck } from './checks/event-loop.js';
export { type HttpCheckOptions, httpCheck } from './checks/http-check.js';
export { type MemoryCheckOptions, memoryCheck } from './checks/memory.js';
export { createHealth, type Health, type HealthOptions, type RunOptions } from './create-health.js';
export { HealthError, HealthErrorCode, isHealthError } from './errors.js';
export type { HealthEvents, LifecycleState } from './events.js';
export { toIetf, toSimple } from './format.js';
export type {
  FastifyLike,
  FastifyReplyLike,
  FastifyRequestLike,
  HandlerOptions,
  HealthAnswer,
  HealthHttp,
  HealthPaths,
} from './http.js';
export type { Closer, ShutdownOptions } from './lifecycle.js';
export { redact, safeReason } from './redact.js';
export type {
  CheckFn,
  CheckOutcome,
  CheckReport,
  CheckStatus,
  CheckVerdict,
  HealthCheck,
  HealthReport,
  HealthStatus,
  IetfCheck,
  IetfReport,
  SimpleReport,
} from './types.js';
