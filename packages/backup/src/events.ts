import { Emitter } from '@org/core';

/** The events of a backup instance; each is also published on `org:backup:<event>`. */
export interface BackupEvents {
  /** Bytes moved so far by a run (plaintext read from `pg_dump`) or a restore pass. */
  progress: {
    operation: 'run' | 'restore' | 'verify';
    phase: 'dump' | 'check' | 'load';
    bytes: number;
    totalBytes?: number | undefined;
  };
  /** One target failed during a run; the others go on. */
  targetFailed: { id: string; target: string; error: string };
  /** A run ended (complete, partial or failed). */
  run: {
    id: string;
    status: 'complete' | 'partial' | 'failed';
    durationMs: number;
    targets: Record<string, 'complete' | 'failed'>;
  };
  /** A restore test ended. */
  verified: { id: string; target: string; ok: boolean; durationMs: number };
}

/** @internal */
export const createEmitter = () => new Emitter<BackupEvents>('backup');
