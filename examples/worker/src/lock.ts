import { open, readFile, rm } from 'node:fs/promises';
import { WorkerError, WorkerErrorCode } from './errors.js';

/** A held lock: `release()` removes it (idempotent). */
export interface Lock {
  release(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the lock file at `path` (created with O_EXCL, holding this process's id), so that a
 * `RUN_ONCE` started by cron never runs beside the resident worker on the same data folder. A
 * lock whose process is gone (a crash, a `kill -9`) is taken over.
 *
 * @throws WorkerError `ERR_WORKER_LOCKED` when a live process holds it.
 */
export async function acquireLock(path: string): Promise<Lock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new WorkerError(
          WorkerErrorCode.Locked,
          `Another worker (pid ${pid}) is running on this data folder (${path}): runs never overlap; try again when it is done`,
        );
      }
      await rm(path, { force: true });
    }
  }
  throw new WorkerError(
    WorkerErrorCode.Locked,
    `Cannot take the lock ${path}: another worker keeps taking it`,
  );
}
