import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { envDuration, ServiceConfigError } from './env.js';
import { createService, type Service } from './server.js';

const port = Number(process.env.PORT ?? 3000);
// SIGTERM or SIGINT: /readyz fails for SHUTDOWN_DELAY (default 5s) so the load balancer stops
// sending, then requests in flight get DRAIN_TIMEOUT (default 10s) before their connections are
// closed, then each package closes within CLOSER_TIMEOUT (default 5s), and the process exits:
// code 0 when all went clean, 1 when draining hit its bound or a closer failed. A second
// Ctrl-C stops it at once.
let service: Service;
try {
  service = await createService({
    handleSignals: true,
    shutdownDelay: envDuration('SHUTDOWN_DELAY'),
    drainTimeout: envDuration('DRAIN_TIMEOUT'),
    closerTimeout: envDuration('CLOSER_TIMEOUT'),
    instanceId: process.env.INSTANCE_ID?.trim() || `${hostname()}:${port}`,
  });
} catch (err) {
  // A setting it cannot run with: one line that names the variable, not a stack trace.
  if (!(err instanceof ServiceConfigError)) throw err;
  console.error(`example service did not start: ${err.message}`);
  process.exit(1);
}
service.health.on('state', ({ to }) => {
  if (to === 'draining')
    console.log('shutting down: readiness fails, then in-flight requests drain');
  if (to === 'stopped') console.log('stopped');
});
service.health.on('shutdownError', ({ phase, reason }) =>
  console.error(`shutdown ${phase}: ${reason}`),
);
service.server.listen(port, '127.0.0.1', () => {
  const bound = (service.server.address() as AddressInfo).port;
  console.log(
    `example service on http://127.0.0.1:${bound}  (GET / lists the routes; Ctrl-C stops)`,
  );
});
// Started by the cluster script (src/cluster.ts), which holds an IPC channel to each instance:
// when the script goes away without stopping it (killed with SIGKILL), the channel closes and the
// instance shuts down gracefully instead of living on, orphaned, on its port.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => {
    void service.shutdown().then((clean) => process.exit(clean ? 0 : 1));
  });
}
