/**
 * Fernet's OpenTelemetry instruments (recorded only when the app registers an SDK; see
 * `createTelemetry` in @org/core): plaintext bytes encrypted and decrypted, and token decryptions
 * refused, by error code. Never a key, a token or any of its content.
 */
import { createTelemetry, errorType } from '@org/core';

export const telemetry = createTelemetry(
  { name: '@org/backup-crypto' },
  {
    bytes: {
      kind: 'counter',
      name: 'org.backup_crypto.bytes',
      unit: 'By',
      description:
        'Plaintext bytes encrypted or decrypted (tokens, streams and chunked streams), by operation.',
    },
    failures: {
      kind: 'counter',
      name: 'org.backup_crypto.failures',
      unit: '{token}',
      description: 'Tokens refused by decrypt(), by error code (invalid or expired).',
    },
  },
);

const ENCRYPT = { 'org.backup_crypto.operation': 'encrypt' } as const;
const DECRYPT = { 'org.backup_crypto.operation': 'decrypt' } as const;

/** Counts plaintext bytes sealed into a token or a stream. */
export function recordEncrypted(bytes: number): void {
  telemetry.metrics()?.bytes.add(bytes, ENCRYPT);
}

/** Counts plaintext bytes released by a verified token or stream. */
export function recordDecrypted(bytes: number): void {
  telemetry.metrics()?.bytes.add(bytes, DECRYPT);
}

/** Counts a token that decrypt() refused. */
export function recordRefused(err: unknown): void {
  telemetry.metrics()?.failures.add(1, { ...DECRYPT, 'error.type': errorType(err) });
}
