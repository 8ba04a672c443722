import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import { defaultEnvName, envProvider } from '@org/secrets';
import { awsProvider } from '@org/secrets/aws';
import { secretsProviderConformance } from '@org/secrets/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

secretsProviderConformance(
  'env',
  async () => {
    const env: Record<string, string> = {};
    return {
      provider: envProvider({ env }),
      async put(name, value) {
        env[defaultEnvName(name)] =
          typeof value === 'string' ? value : Buffer.from(value).toString();
      },
    };
  },
  { describe, it, expect },
);

let moto: Awaited<ReturnType<typeof startMoto>> | undefined;
describe.runIf(motoAvailable)('aws on moto', () => {
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });
  secretsProviderConformance(
    'aws (moto)',
    async () => ({
      provider: awsProvider({ clientConfig: motoConnection(moto!.endpoint) }),
      async put(name, value) {
        const body = typeof value === 'string' ? { SecretString: value } : { SecretBinary: value };
        try {
          await moto!.admin.send(new CreateSecretCommand({ Name: name, ...body }));
        } catch (err) {
          if (!(err instanceof ResourceExistsException)) throw err;
          await moto!.admin.send(new PutSecretValueCommand({ SecretId: name, ...body }));
        }
      },
    }),
    { describe, it, expect },
    { binary: true, versions: true, abortable: true },
  );
});
