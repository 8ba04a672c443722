import { isFernetError } from '@org/backup-crypto';

/** What `p` settles to: 'resolved', a FernetError's code, or `other: …` for any other error. */
export const failure = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (err: unknown) => (isFernetError(err) ? err.code : `other: ${String(err)}`),
  );
