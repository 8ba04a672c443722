export { isAuthError } from './auth-error.js';
export { type EnvProviderOptions, envProvider } from './drivers/env.js';
export {
  type CheckEnvOptions,
  checkEnv,
  type EnvCheckRow,
  type EnvCheckStatus,
  type EnvReport,
  type EnvSchema,
  type EnvValueSpec,
  type EnvValueType,
  formatEnvReport,
  type SecretSpec,
} from './env-check.js';
export { defaultEnvName } from './env-names.js';
export { isSecretsError, SecretsError, SecretsErrorCode } from './errors.js';
export type { SecretsEvents } from './events.js';
export { createSecretsFromEnv, type SecretsFromEnvOverrides } from './from-env.js';
export type { SecretsHealth } from './health.js';
export type { SecretsOptions } from './options.js';
export type {
  FetchedSecret,
  ProviderRequest,
  SecretsProvider,
  SecretVersion,
} from './provider.js';
export { isSecretValue, SecretValue } from './secret-value.js';
export {
  createSecrets,
  type GetSecretOptions,
  type PreloadResult,
  type Secrets,
  type WithSecretOptions,
} from './secrets.js';
