export { type OpenUpload, type Started, startApp, startScript, upload } from './example-app.js';
export {
  type ExampleApp,
  type FuzzApp,
  type FuzzOptions,
  fuzzSuite,
  redisSuite,
  type SmokeOptions,
  s3Suite,
  smokeSuite,
} from './example-app-suites.js';
export { type StartErrorsOptions, startErrorsSuite } from './example-start-errors.js';
export { type FuzzTarget, fuzzHttpHandler, fuzzJunk, type HttpFuzzOptions } from './http-fuzz.js';
export { canConnect, freePort, waitFor } from './net.js';
export {
  addedNsPerCall,
  type BenchBuilds,
  type BundleFn,
  buildForBench,
  type CollectedPoint,
  commitBefore,
  fineRatioRow,
  type OtelHarness,
  startOtel,
} from './otel.js';
export { hasCommand, type OwnedServer, startMotoServer, startRedisServer } from './processes.js';
export { inCI, programAvailable, serverAvailable } from './require-server.js';
export { type EnvelopeItem, type SentrySink, startSentrySink } from './sentry-sink.js';
