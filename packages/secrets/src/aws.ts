import { type AwsProviderOptions, awsProvider } from './drivers/aws.js';
import type { SecretValue } from './secret-value.js';
import type { GetSecretOptions, Secrets } from './secrets.js';
import { createSecrets } from './secrets.js';

export { type AwsProviderOptions, awsProvider };

let shared: Secrets | undefined;

/**
 * The shortcut of AWS Powertools' `getSecret`: reads `name` from Secrets Manager through one
 * client per process, made on first use on the SDK's defaults (its region, credential chain and
 * `AWS_ENDPOINT_URL*` variables) and the package's cache defaults (5-minute `ttl`). For any other
 * set-up, make a client with `createSecrets({ provider: awsProvider(...) })`.
 *
 * @example
 * const key = await getSecret('cineview-gemini-api');
 * const password = await getSecret('cineview-db', { field: 'password' });
 */
export function getSecret(name: string, options?: GetSecretOptions): Promise<SecretValue> {
  shared ??= createSecrets({ provider: awsProvider() });
  return shared.get(name, options);
}
