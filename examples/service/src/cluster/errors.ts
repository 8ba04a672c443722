/** Stable codes of what the cluster script refuses or fails at. */
export const ClusterErrorCode = {
  /** A setting (an option, or a variable of the environment) it cannot run with. */
  InvalidOption: 'ERR_CLUSTER_INVALID_OPTION',
  /** An instance exited, or did not answer `/readyz`, before it was up. */
  StartFailed: 'ERR_CLUSTER_START_FAILED',
} as const;
export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** What the cluster script throws; `code` is one of {@link ClusterErrorCode}. */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidOption = (message: string) =>
  new ClusterError(ClusterErrorCode.InvalidOption, message);
