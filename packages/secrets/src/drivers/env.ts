import { defaultEnvName } from '../env-names.js';
import { check, SecretsError, SecretsErrorCode } from '../errors.js';
import type { FetchedSecret, ProviderRequest, SecretsProvider } from '../provider.js';
import { versionKey } from '../provider.js';

/** Options of {@link envProvider}. */
export interface EnvProviderOptions {
  /**
   * The variables to read. The package never reads `process.env` by itself: pass it here, or
   * use `createSecretsFromEnv`, which does and says so.
   */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Explicit names: secret name (with or without the prefix) → variable, e.g.
   * `{ 'cineview-gemini-api': 'GEMINI_API_KEY' }`. Wins over `envName`. @default {}
   */
  names?: Readonly<Record<string, string>> | undefined;
  /**
   * The rule for names not in `names`, given the name without the prefix.
   * @default the documented rule of `defaultEnvName` (`gemini-api` → `GEMINI_API_KEY`)
   */
  envName?: ((bareName: string) => string) | undefined;
}

/**
 * Secrets from environment variables (development, CI, or a platform that injects them). Only
 * current versions exist; an unset or empty variable is a missing secret.
 */
export function envProvider(options: EnvProviderOptions): SecretsProvider {
  const opts = check.object(options, 'envProvider options');
  if (typeof opts.env !== 'object' || opts.env === null) {
    throw new SecretsError(
      SecretsErrorCode.InvalidOption,
      '`env` must be the variables to read, e.g. `envProvider({ env: process.env })`',
    );
  }
  const env = opts.env;
  const names = check.object(opts.names, 'names');
  const rule = check.func<(bare: string) => string>(opts.envName, 'envName') ?? defaultEnvName;
  const variable = (r: { name: string; bareName: string }): string =>
    names[r.name] ?? names[r.bareName] ?? rule(r.bareName);
  const read = (r: { name: string; bareName: string }): FetchedSecret | undefined => {
    const value = env[variable(r)];
    return value === undefined || value === '' ? undefined : { value };
  };
  return {
    kind: 'env',
    async get(request: ProviderRequest) {
      if (versionKey(request.version) !== '') {
        throw new SecretsError(
          SecretsErrorCode.Unsupported,
          `The env provider holds only the current value of "${request.name}"; ask for no version.`,
          { secretName: request.name },
        );
      }
      return read(request);
    },
    async getMany(requests) {
      const out = new Map<string, FetchedSecret>();
      for (const r of requests) {
        const got = read(r);
        if (got) out.set(r.name, got);
      }
      return out;
    },
    describe: (r) => `env ${variable(r)}`,
  };
}
