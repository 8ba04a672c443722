import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/lock.js';

describe('the data folder lock', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const lockPath = () => {
    const dir = mkdtempSync(join(tmpdir(), 'worker-lock-'));
    dirs.push(dir);
    return join(dir, 'worker.lock');
  };

  it('a second worker on the same folder is refused (ERR_WORKER_LOCKED) until the first releases', async () => {
    const path = lockPath();
    const first = await acquireLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    await expect(acquireLock(path)).rejects.toMatchObject({
      code: 'ERR_WORKER_LOCKED',
      message: expect.stringContaining(`pid ${process.pid}`),
    });
    await first.release();
    await first.release(); // idempotent
    const second = await acquireLock(path);
    await second.release();
  });

  it('a lock left by a process that is gone (a crash, kill -9) is taken over', async () => {
    const path = lockPath();
    // Above Linux's largest pid (4194304): no such process.
    writeFileSync(path, '4194999\n');
    const lock = await acquireLock(path);
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    await lock.release();
  });
});
