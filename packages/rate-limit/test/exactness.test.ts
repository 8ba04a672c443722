import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { serverAvailable } from '@org/test-utils';
import { describe, expect, it } from 'vitest';
import { uniquePrefix } from './support/clock.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const hammer = new URL('./support/hammer.ts', import.meta.url).pathname;

function child(args: string[]): { proc: ChildProcess; lines: AsyncIterator<string> } {
  const proc = spawn(
    process.execPath,
    ['--conditions=@org/source', '--import', 'tsx', hammer, ...args],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: new URL('..', import.meta.url).pathname },
  );
  const lines = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]();
  return { proc, lines };
}

describe.runIf(await serverAvailable('Redis', 6379))(
  'exact across processes on real Redis: 2 processes × 500 concurrent against a limit of 100',
  () => {
    it.each(['fixed-window', 'sliding-window', 'token-bucket'])(
      '%s admits exactly 100',
      async (algorithm) => {
        const prefix = uniquePrefix(`exact-${algorithm}`);
        const kids = [
          child([REDIS_URL, prefix, algorithm, '500']),
          child([REDIS_URL, prefix, algorithm, '500']),
        ];
        for (const k of kids) expect((await k.lines.next()).value).toBe('ready');
        for (const k of kids) k.proc.stdin!.write('go\n');
        const outs = await Promise.all(
          kids.map(async (k) => JSON.parse((await k.lines.next()).value as string)),
        );
        const admitted = outs.reduce((n, o: { admitted: number }) => n + o.admitted, 0);
        for (const o of outs) expect(o.stores).toEqual(['redis']);
        expect(admitted).toBe(100);
      },
    );
  },
);
