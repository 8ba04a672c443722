import type { AddressInfo } from 'node:net';
import { type AppOptions, createApp } from './app.js';
import { describeListenError, describeStartError, failStart, portOf } from './start-errors.js';

// Every variable is optional: unset, the app runs on the SDK's embedded defaults.
const port = portOf(process.env.PORT);
const host = process.env.HOST ?? '0.0.0.0';
const env = process.env;
const { app, health } = await createApp({
  redisUrl: env.REDIS_URL,
  env,
  publicUrl: env.PUBLIC_URL ?? `http://localhost:${port}`,
  chaos: env.NODE_ENV !== 'production',
  // Durations such as '5s' or '500ms'; a bad one stops the start with ERR_HEALTH_INVALID_OPTION.
  shutdownDelay: (env.SHUTDOWN_DELAY || '5s') as AppOptions['shutdownDelay'],
  drainTimeout: (env.DRAIN_TIMEOUT || '10s') as AppOptions['drainTimeout'],
}).catch((err: unknown) => failStart(describeStartError(err)));

const server = app.listen(port, host, (err) => {
  if (err) failStart(describeListenError(err, host, port));
  const { port: bound } = server.address() as AddressInfo;
  // On every interface (0.0.0.0), this machine reaches it on the loopback address.
  const shown =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  console.log(`example-express listening on http://${shown}:${bound} (GET / lists the routes)`);
});
// Graceful shutdown drains this server: @org/health closes it at SIGTERM.
health.attach(server);

// SIGTERM (Kubernetes, systemd, docker stop) or Ctrl-C: fail readiness for SHUTDOWN_DELAY so the
// load balancer stops sending traffic, stop accepting, let in-flight requests finish within
// DRAIN_TIMEOUT, close what the app holds, exit 0 (1 if draining overran or a closer failed).
health.on('shutdownError', ({ phase, reason }) => console.error(`shutdown ${phase}: ${reason}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    console.log(`${signal}: draining`);
    const clean = await health.shutdown();
    console.log(clean ? 'stopped cleanly' : 'stopped, not cleanly');
    process.exit(clean ? 0 : 1);
  });
}
