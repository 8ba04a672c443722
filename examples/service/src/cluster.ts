// Several instances of the service, one state: `npm run cluster` (tsx src/cluster.ts) starts
// INSTANCES (3) instances on INSTANCE_PORTS (PORT+1 …), all on the same REDIS_URL, REDIS_PREFIX
// and KEYRING_ENCRYPTION_KEY, and a round-robin proxy in front of them on PORT (3000).
// SIGTERM or SIGINT goes to every instance (each runs its graceful shutdown); the script exits
// when they all have: 0 when each exited cleanly, 1 otherwise. See src/cluster/config.ts for
// every variable.
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { clusterConfigFromEnv } from './cluster/config.js';
import { ClusterError, ClusterErrorCode } from './cluster/errors.js';
import { type Instance, type InstanceExit, startInstance } from './cluster/instances.js';
import { createRoundRobinProxy } from './cluster/proxy.js';

/** How long the instances have, after the first signal, before they are killed. */
const STOP_TIMEOUT_MS = 60_000;
/** A signal repeated within this many ms is the same one, passed on by several processes. */
const SIGNAL_REPEAT_MS = 500;

const say = (line: string) => console.log(`[cluster] ${line}`);
const serviceDir = join(import.meta.dirname, '..');

// A debugger flag would make every instance fight for the same inspector port.
const execArgv = process.execArgv.filter((a) => !/^--inspect/.test(a));

/** Whether something accepts a TCP connection at the Redis URL's host and port within 1 s. */
function answers(redisUrl: string): Promise<boolean> {
  const { hostname, port } = new URL(redisUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, '') || '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function run(): Promise<number> {
  const config = clusterConfigFromEnv(process.env);
  for (const notice of config.notices) say(notice);
  const redisUrl = config.env.REDIS_URL!;
  if (!(await answers(redisUrl))) {
    const { host } = new URL(redisUrl);
    throw new ClusterError(
      ClusterErrorCode.StartFailed,
      `nothing answers at ${host} (REDIS_URL): start Redis there, or point REDIS_URL at one`,
    );
  }
  const instances: Instance[] = [];
  const started = await Promise.allSettled(
    config.instancePorts.map((port, i) =>
      startInstance({
        id: `instance-${i + 1}`,
        port,
        entry: join(serviceDir, 'src', 'main.ts'),
        execArgv,
        env: config.env,
        cwd: serviceDir,
        startTimeout: config.startTimeout,
        onLine: (line, stream) =>
          (stream === 'stdout' ? console.log : console.error)(`[instance-${i + 1}] ${line}`),
      }).then((instance) => {
        instances[i] = instance;
        return instance;
      }),
    ),
  );
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    const up = instances.filter(Boolean);
    for (const instance of up) if (instance.running()) instance.child.kill('SIGKILL');
    await Promise.all(up.map((i) => i.exited));
    throw failed.reason;
  }

  const proxy = createRoundRobinProxy({
    targets: instances.map(({ id, port }) => ({ id, host: '127.0.0.1', port })),
    timeout: config.proxyTimeout,
    onFailure: ({ target, status, code }) => say(`${target.id}: ${code}, answered ${status}`),
  });
  await new Promise<void>((resolve, reject) => {
    proxy.once('error', reject);
    proxy.listen(config.port, '127.0.0.1', () => resolve());
  }).catch(async (err: unknown) => {
    for (const instance of instances) instance.child.kill('SIGTERM');
    await Promise.all(instances.map((i) => i.exited));
    throw err;
  });
  for (const { id, port, pid } of instances) say(`${id} on http://127.0.0.1:${port} (pid ${pid})`);
  const { port } = proxy.address() as AddressInfo;
  say(
    `ready: ${instances.length} instances behind http://127.0.0.1:${port} (round robin; Ctrl-C stops them all)`,
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const exits = new Map<string, InstanceExit>();
    const finish = (code: number) => {
      proxy.close();
      proxy.closeAllConnections();
      resolve(code);
    };
    for (const instance of instances) {
      void instance.exited.then((exit) => {
        exits.set(instance.id, exit);
        say(`${instance.id} exited (${exit.signal ?? `code ${exit.code}`})`);
        if (exits.size < instances.length) {
          if (!stopping) say(`the proxy answers 502 for ${instance.id}'s turns`);
          return;
        }
        const clean = [...exits.values()].every((e) => e.code === 0);
        finish(stopping && clean ? 0 : 1);
      });
    }
    // One Ctrl-C may arrive more than once: the terminal signals the whole foreground group,
    // and npm, npx and tsx each pass it on to their child as well. A repeat within
    // SIGNAL_REPEAT_MS is taken as the same one; a second Ctrl-C later stops the instances at once.
    let last = { signal: '', at: 0 };
    const onSignal = (signal: NodeJS.Signals) => {
      const now = Date.now();
      if (signal === last.signal && now - last.at < SIGNAL_REPEAT_MS) return;
      last = { signal, at: now };
      const living = instances.filter((i) => i.running());
      say(`${signal}: passing it to ${living.map((i) => i.id).join(', ') || 'no instance'}`);
      for (const instance of living) instance.child.kill(signal);
      if (stopping) return;
      stopping = true;
      setTimeout(() => {
        for (const instance of instances) {
          if (!instance.running()) continue;
          say(`${instance.id} still runs ${STOP_TIMEOUT_MS} ms after the signal: killing it`);
          instance.child.kill('SIGKILL');
        }
      }, STOP_TIMEOUT_MS).unref();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

let code: number;
try {
  code = await run();
} catch (err) {
  if (!(err instanceof ClusterError) && (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
    throw err;
  }
  say(`did not start: ${(err as Error).message}`);
  code = 1;
}
process.exit(code);
