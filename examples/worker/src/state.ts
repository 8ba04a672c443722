import { isStorageError, type Storage } from '@org/storage';

/** What the worker remembers of one scheduled job between restarts. */
export interface JobRecord {
  /** When the last run started (ISO 8601). */
  lastStartedAt?: string | undefined;
  /** When the last run ended. */
  lastFinishedAt?: string | undefined;
  /** When the last run that succeeded started: the next run is due one interval after it. */
  lastOkAt?: string | undefined;
  /** How the last run ended; `aborted` (a shutdown) does not count as an attempt. */
  outcome?: 'ok' | 'failed' | 'aborted' | undefined;
  /** Why the last run failed: a scrubbed one-line message. */
  error?: string | undefined;
  /** What the last run did (backup id, verified tables, new key id…). */
  summary?: Record<string, unknown> | undefined;
}

/** The whole persisted state: one record per job name. */
export interface WorkerState {
  version: 1;
  jobs: Record<string, JobRecord>;
}

/** Where the state lives between restarts. */
export interface StateStore {
  load(signal?: AbortSignal): Promise<WorkerState>;
  save(state: WorkerState, signal?: AbortSignal): Promise<void>;
}

const empty = (): WorkerState => ({ version: 1, jobs: {} });

/**
 * The state as one small JSON object in an `@org/storage` storage (the local disk, R2 or S3):
 * kept beside the backups, it survives a container that is replaced. A missing object is a
 * worker that never ran; an unreadable one is treated the same (every job is then due once).
 */
export function storageState(
  storage: Pick<Storage, 'getBuffer' | 'put'>,
  key = 'worker-state.json',
): StateStore {
  return {
    async load(signal) {
      let raw: Buffer;
      try {
        raw = await storage.getBuffer(key, { signal });
      } catch (err) {
        if (isStorageError(err, 'ERR_STORAGE_NOT_FOUND')) return empty();
        throw err;
      }
      try {
        const parsed = JSON.parse(raw.toString('utf8')) as Partial<WorkerState>;
        if (parsed?.version !== 1 || typeof parsed.jobs !== 'object' || parsed.jobs === null) {
          return empty();
        }
        return { version: 1, jobs: parsed.jobs };
      } catch {
        return empty();
      }
    },
    async save(state, signal) {
      await storage.put(key, JSON.stringify(state, null, 2), {
        signal,
        contentType: 'application/json',
      });
    },
  };
}
