import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// The process-wide registry must not keep breakers alive that the app has dropped (20k
// breakers never closed held 210 MB). Measured in a fresh `node --expose-gc`.
describe('breaker registry and garbage collection', () => {
  it('lets dropped breakers be collected, and list() no longer shows them', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'fixtures/dropped-breakers.ts')],
      { cwd: join(import.meta.dirname, '..'), timeout: 60_000 },
    );
    const r = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      whileHeld: number;
      collected: number;
      listed: string[];
      keptFound: boolean;
      droppedFound: boolean;
      heapGrowthBytes: number;
    };
    expect(r.whileHeld).toBe(5001);
    expect(r.collected).toBeGreaterThan(4900);
    expect(r.listed).toEqual(['kept']);
    expect(r.keptFound).toBe(true);
    expect(r.droppedFound).toBe(false);
    // 5,000 breakers held were several MB; what remains is the kept one and bookkeeping.
    expect(r.heapGrowthBytes).toBeLessThan(2 * 1024 * 1024);
  }, 90_000);
});
