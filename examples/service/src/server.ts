import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Health, HealthCheck } from '@org/health';
import {
  type App,
  BadRequest,
  type Closer,
  type Dependency,
  type Feature,
  type GracefulShutdown,
  type Handler,
  type Precheck,
  type ServiceOptions,
  sendJson,
} from './app.js';
import { INSTANCE_ID, ServiceConfigError, sharedStateFromEnv } from './env.js';
import { features } from './features/index.js';
import { httpServerTelemetry } from './http-telemetry.js';
import { refuseBody } from './limits.js';
import { createStatusBoard } from './status/board.js';
import { startTelemetry } from './telemetry.js';

export type { ServiceOptions } from './app.js';

/** The example service: its server (`listen` is the caller's) and its graceful shutdown. */
export interface Service {
  readonly server: Server;
  /** The health instance that runs the shutdown (`/readyz` fails while it drains). */
  readonly health: Health;
  /** Graceful shutdown, once: resolves true when every request drained and every closer ran. */
  shutdown(): Promise<boolean>;
  /** Runs the graceful shutdown and waits for it; for tests and embedding. */
  close(): Promise<void>;
}

/**
 * Builds the example service with every feature mounted. Its graceful shutdown is
 * `@org/health`'s: readiness fails for `shutdownDelay`, then the server stops accepting and
 * in-flight requests get `drainTimeout` (the connections left are closed), then each feature's
 * closer runs within `closerTimeout`.
 */
export async function createService(options: ServiceOptions = {}): Promise<Service> {
  // The OpenTelemetry SDK first, so that the packages' first records and spans are kept.
  const telemetry = startTelemetry(process.env);
  try {
    return await build(options, telemetry);
  } catch (err) {
    await telemetry?.shutdown();
    throw err;
  }
}

async function build(
  options: ServiceOptions,
  telemetry: ReturnType<typeof startTelemetry>,
): Promise<Service> {
  const routes = new Map<string, Handler>();
  const prechecks = new Map<string, Precheck>();
  const closers: Closer[] = [];
  const dependencies = new Map<string, Dependency>();
  const checks = new Map<string, HealthCheck>();
  const guards: Parameters<App['use']>[0][] = [];
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}`;
  if (!INSTANCE_ID.test(instanceId)) {
    throw new ServiceConfigError(
      'INSTANCE_ID',
      'the instance id must be 1 to 128 letters, digits, or "_.:@-"',
    );
  }
  let lifecycle: (GracefulShutdown & Health) | undefined;
  const app: App = {
    route: (method, path, handler) => routes.set(`${method} ${path}`, handler),
    use: (guard) => guards.push(guard),
    onClose: (fn) => closers.push(fn),
    dependency: (name, target) => dependencies.set(name, target),
    dependencies,
    check: (name, c) => checks.set(name, c),
    checks,
    options,
    instanceId,
    shared: sharedStateFromEnv(),
    runsShutdown: (l) => {
      lifecycle = l as GracefulShutdown & Health;
    },
    precheck: (method, path, check) => prechecks.set(`${method} ${path}`, check),
    telemetry,
    status: createStatusBoard(),
  };
  for (const feature of features as Feature[]) await feature(app);
  app.route('GET', '/', () => ({ routes: [...routes.keys()].sort() }));
  if (lifecycle === undefined) throw new Error('no feature runs the graceful shutdown');

  const parse = (target = '/') =>
    URL.canParse(target, 'http://localhost') ? new URL(target, 'http://localhost') : undefined;
  const observe = httpServerTelemetry();
  // Nothing a client sends may throw out of the listener: a target that is no URL is a 400.
  // `matched` learns the route template, for the request's span and duration.
  const dispatch = async (
    req: IncomingMessage,
    res: ServerResponse,
    matched: (route: string) => void,
  ): Promise<void> => {
    try {
      const url = parse(req.url);
      if (!url) return sendJson(res, 400, { error: 'the request target is not a valid URL' });
      const handler = routes.get(`${req.method} ${url.pathname}`);
      if (handler) matched(url.pathname); // a registered route: its template, not any path typed
      for (const guard of guards) if (!(await guard(req, res))) return;
      if (!handler) return sendJson(res, 404, { error: 'not found', see: 'GET /' });
      const body = await handler(req, res, url);
      if (!res.headersSent && body !== undefined) sendJson(res, 200, body);
    } catch (err) {
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (err instanceof BadRequest) return sendJson(res, err.status, { error: err.message });
      const code = (err as { code?: string }).code;
      sendJson(res, 500, { error: (err as Error).message, code });
    }
  };
  // Which instance answered, for a client behind a load balancer (the cluster script's proxy).
  const server = createServer((req, res) => {
    res.setHeader('x-instance', instanceId);
    let route: string | undefined;
    return observe(
      req,
      res,
      () => route,
      () =>
        dispatch(req, res, (r) => {
          route = r;
        }),
    );
  });
  // `Expect: 100-continue`: a request its route would refuse from its headers alone (a declared
  // size over the limit, a full pool) is refused before the client sends the body; any other
  // is told to continue and handled as usual.
  server.on('checkContinue', (req, res) => {
    res.setHeader('x-instance', instanceId);
    try {
      const url = parse(req.url);
      const refusal = url && prechecks.get(`${req.method} ${url.pathname}`)?.(req, url);
      if (refusal) {
        void observe(req, res, () => url?.pathname);
        for (const [name, value] of Object.entries(refusal.headers ?? {}))
          res.setHeader(name, value);
        return refuseBody(res, refusal.status, refusal.body);
      }
    } catch {
      // A precheck that fails lets the request through: its handler checks again.
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  // Drain first (the server is the lifecycle's), then close what the features hold, the
  // features mounted first last: alerts flush after the others may have alerted, secrets last,
  // and the telemetry after all of them, so that what they recorded while closing is exported.
  lifecycle.attach(server);
  for (const fn of [...closers].reverse()) lifecycle.onShutdown(fn);
  if (telemetry) lifecycle.onShutdown(() => telemetry.shutdown());
  const health = lifecycle;
  return {
    server,
    health,
    shutdown: () => health.shutdown(),
    async close() {
      await health.shutdown();
    },
  };
}
