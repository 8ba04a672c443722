import { checkEnv, createSecretsFromEnv, type Secrets } from '@org/secrets';
import type { Feature } from '../app.js';

let client: Secrets | undefined;

/**
 * The service's secrets, on the embedded default: environment variables (handed `process.env`
 * by `createSecretsFromEnv`, which also reads `NODE_ENV` and `SECRETS_PREFIX`). In production,
 * pass `provider: awsProvider()` from `@org/secrets/aws` to read the same names from AWS Secrets
 * Manager; the names stay, and `backup-encryption-key` is `BACKUP_ENCRYPTION_KEY` in development.
 */
export function serviceSecrets(): Secrets {
  client ??= createSecretsFromEnv(process.env);
  return client;
}

/**
 * A key the service may run without in development (the feature then makes one up and says so):
 * `undefined` when it is missing there; in production (`NODE_ENV=production`) a missing key
 * rejects with `ERR_SECRETS_NOT_FOUND` naming it, so the service does not start without it.
 */
export async function devOptionalKey(name: string): Promise<string | undefined> {
  return (await serviceSecrets().get(name, { optional: true }))?.reveal();
}

/**
 * `GET /secrets` answers what `npx check-env` prints, as JSON: which keys the service reads,
 * where each is looked for, and whether it is there. Never a value.
 */
export const secrets: Feature = (app) => {
  const own = serviceSecrets();
  app.route('GET', '/secrets', () =>
    checkEnv(
      { secrets: { 'backup-encryption-key': { type: 'string', optional: true } } },
      { env: process.env, secrets: own },
    ),
  );
  app.onClose(async () => {
    if (client === own) client = undefined;
    await own.close();
  });
};
