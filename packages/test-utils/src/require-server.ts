import { canConnect } from './net.js';

/** True when the suite runs in CI, where a missing server is a failure and never a skip. */
export const inCI = (): boolean => process.env.CI === 'true';

/**
 * Checks that a shared server is reachable. Returns true when it is. When it is not: in CI it
 * throws, so the run goes red; elsewhere it prints why the tests are skipped and returns false,
 * so a newcomer's `pnpm test` passes without the server.
 *
 * Use with `describe.runIf(await serverAvailable('Redis', 6379))`.
 */
export async function serverAvailable(
  name: string,
  port: number,
  host = '127.0.0.1',
): Promise<boolean> {
  if (await canConnect(port, host, 1_000)) return true;
  const msg = `${name} is not reachable at ${host}:${port}`;
  if (inCI()) throw new Error(`${msg}; CI needs it (.ci/run starts it)`);
  console.warn(`[skip] ${msg}: its tests are skipped. Start it to run them.`);
  return false;
}

/** Same as serverAvailable, for a program this suite starts itself (redis-server, moto_server). */
export async function programAvailable(
  name: string,
  check: () => Promise<boolean>,
): Promise<boolean> {
  if (await check().catch(() => false)) return true;
  const msg = `${name} is not installed on this machine`;
  if (inCI()) throw new Error(`${msg}; CI needs it (.ci/run installs it)`);
  console.warn(`[skip] ${msg}: its tests are skipped. Install it to run them.`);
  return false;
}
