import { envProvider } from './drivers/env.js';
import type { SecretsOptions } from './options.js';
import { createSecrets, type Secrets } from './secrets.js';

/** What `createSecretsFromEnv` lets code set over the environment. */
export interface SecretsFromEnvOverrides extends Partial<SecretsOptions> {
  /** Explicit secret name → variable mapping for the env provider. @default {} */
  names?: Readonly<Record<string, string>> | undefined;
}

/**
 * Creates a secrets client on the embedded default, the `env` provider, handed `env`. It reads
 * these variables, and no others:
 * - `NODE_ENV`: `production` turns on production mode (a missing secret is always an error);
 * - `SECRETS_PREFIX`: the `prefix` (e.g. `cineview-`);
 * - each secret's variable, when it is read (`cineview-gemini-api` → `GEMINI_API_KEY`, by the
 *   rule of `defaultEnvName` or by `names`).
 *
 * `overrides` win over the environment; pass `provider: awsProvider()` (from
 * `@org/secrets/aws`) to read Secrets Manager with the same production flag and prefix.
 */
export function createSecretsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
  overrides: SecretsFromEnvOverrides = {},
): Secrets {
  const { names, ...rest } = overrides;
  const prefix = env.SECRETS_PREFIX?.trim() || undefined;
  return createSecrets({
    production: env.NODE_ENV === 'production',
    ...rest,
    prefix: rest.prefix ?? prefix,
    provider: rest.provider ?? envProvider({ env, names }),
  });
}
