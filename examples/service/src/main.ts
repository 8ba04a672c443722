import { createService, type ServiceOptions } from './server.js';

type Duration = NonNullable<ServiceOptions['drainTimeout']>;

/** A duration from the environment: `'5s'`, `'250ms'`, or bare milliseconds (`'250'`). */
const duration = (name: string): Duration | undefined => {
  const value = process.env[name]?.trim();
  if (!value) return undefined;
  return /^\d+$/.test(value) ? Number(value) : (value as Duration);
};

const port = Number(process.env.PORT ?? 3000);
// SIGTERM or SIGINT: /readyz fails for SHUTDOWN_DELAY (default 5s) so the load balancer stops
// sending, then requests in flight get DRAIN_TIMEOUT (default 10s) before their connections are
// closed, then each package closes within CLOSER_TIMEOUT (default 5s), and the process exits:
// code 0 when all went clean, 1 when draining hit its bound or a closer failed. A second
// Ctrl-C stops it at once.
const service = await createService({
  handleSignals: true,
  shutdownDelay: duration('SHUTDOWN_DELAY'),
  drainTimeout: duration('DRAIN_TIMEOUT'),
  closerTimeout: duration('CLOSER_TIMEOUT'),
});
service.health.on('state', ({ to }) => {
  if (to === 'draining')
    console.log('shutting down: readiness fails, then in-flight requests drain');
  if (to === 'stopped') console.log('stopped');
});
service.health.on('shutdownError', ({ phase, reason }) =>
  console.error(`shutdown ${phase}: ${reason}`),
);
service.server.listen(port, '127.0.0.1', () => {
  console.log(
    `example service on http://127.0.0.1:${port}  (GET / lists the routes; Ctrl-C stops)`,
  );
});
