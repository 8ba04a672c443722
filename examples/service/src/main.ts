import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { describeListenError, envDuration, envPort, ServiceConfigError } from './env.js';
import { createService, type Service } from './server.js';

/** A setting or a port it cannot run with: one line that says what to change, not a stack trace. */
function failStart(message: string): never {
  console.error(`example service did not start: ${message}`);
  process.exit(1);
}

let port: number;
try {
  port = envPort();
} catch (err) {
  if (!(err instanceof ServiceConfigError)) throw err;
  failStart(err.message);
}
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
  if (!(err instanceof ServiceConfigError)) throw err;
  failStart(err.message);
}
service.health.on('state', ({ to }) => {
  if (to === 'draining')
    console.log('shutting down: readiness fails, then in-flight requests drain');
  if (to === 'stopped') console.log('stopped');
});
service.health.on('shutdownError', ({ phase, reason }) =>
  console.error(`shutdown ${phase}: ${reason}`),
);
// Before listening succeeds, a listen error (a port in use) ends the start; the packages have
// opened connections by now, so exit rather than wait for them.
const onListenError = (err: Error) => failStart(describeListenError(err, port));
service.server.once('error', onListenError);
service.server.listen(port, '127.0.0.1', () => {
  service.server.off('error', onListenError);
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
