import { errorGuard, OrgError } from '@org/core';

/** Stable codes of what the worker throws, besides core's `ERR_ABORTED` and `ERR_TIMEOUT`. */
export const WorkerErrorCode = {
  /** A setting that cannot work: the message names the variable or option and what it takes. */
  InvalidOption: 'ERR_WORKER_INVALID_OPTION',
  /** Another worker holds the lock of this data folder: runs never overlap. */
  Locked: 'ERR_WORKER_LOCKED',
  /** A scheduled run failed and the package behind it alerted already (a failed restore test). */
  RunFailed: 'ERR_WORKER_RUN_FAILED',
} as const;

/** One of the {@link WorkerErrorCode} values. */
export type WorkerErrorCode = (typeof WorkerErrorCode)[keyof typeof WorkerErrorCode];

/** The worker's error class, on core's `OrgError`. */
export class WorkerError<Code extends WorkerErrorCode = WorkerErrorCode> extends OrgError<Code> {
  override name = 'WorkerError';
}

/** Whether `err` is a `WorkerError`, optionally with `code`. */
export const isWorkerError = errorGuard<WorkerError>('ERR_WORKER_');

/** An `ERR_WORKER_INVALID_OPTION` error. */
export const invalidOption = (message: string): WorkerError =>
  new WorkerError(WorkerErrorCode.InvalidOption, message);
