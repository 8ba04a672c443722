import {
  CreateSecretCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { hasCommand, programAvailable, startMotoServer } from '@org/test-utils';

/** Whether moto_server can run here (skips with a message; fails in CI). */
export const motoAvailable = await programAvailable('moto_server', () => hasCommand('moto_server'));

/** How the SDK reaches a moto server: its endpoint, a region, dummy credentials. */
export const motoConnection = (endpoint: string): SecretsManagerClientConfig => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
});

/**
 * A client whose requests are counted by command name, at the SDK's middleware stack: what
 * reaches moto.
 */
export function countingClient(endpoint: string) {
  const client = new SecretsManagerClient(motoConnection(endpoint));
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? '?';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { client, count: (command: string) => counts.get(command) ?? 0 };
}

/** A moto server of this suite's own, with an admin client to make secrets on it. */
export async function startMoto() {
  const moto = await startMotoServer();
  const admin = new SecretsManagerClient(motoConnection(moto.endpoint));
  let n = 0;
  return {
    server: moto,
    endpoint: moto.endpoint,
    admin,
    /** A fresh secret name, made with `value`. */
    async secret(value: string | Uint8Array, prefix = 'app'): Promise<string> {
      const name = `${prefix}-${process.pid}-${++n}`;
      await admin.send(
        new CreateSecretCommand(
          typeof value === 'string'
            ? { Name: name, SecretString: value }
            : { Name: name, SecretBinary: value },
        ),
      );
      return name;
    },
    async stop() {
      admin.destroy();
      await moto.stop();
    },
  };
}
