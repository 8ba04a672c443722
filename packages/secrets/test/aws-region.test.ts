import { createSecrets, isSecretsError, SecretsErrorCode } from '@org/secrets';
import { awsProvider } from '@org/secrets/aws';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCheckEnv } from '../src/cli.js';

const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'not-a-real-secret' };

describe('aws provider without a region', () => {
  // Nothing of this machine's AWS settings may give the SDK a region.
  beforeEach(() => {
    vi.stubEnv('AWS_REGION', '');
    vi.stubEnv('AWS_DEFAULT_REGION', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('get and preload reject with ERR_SECRETS_INVALID_OPTION naming AWS_REGION, not "check the network"', async () => {
    for (const region of ['', undefined]) {
      const secrets = createSecrets({
        provider: awsProvider({ clientConfig: { region, credentials } }),
        timeout: '5s',
      });
      try {
        const err = await secrets.get('db').catch((e: unknown) => e);
        expect(isSecretsError(err, SecretsErrorCode.InvalidOption), String(err)).toBe(true);
        expect((err as Error).message).toContain('AWS_REGION');
        const batch = await secrets.preload(['a', 'b']).catch((e: unknown) => e);
        expect(isSecretsError(batch, SecretsErrorCode.InvalidOption), String(batch)).toBe(true);
      } finally {
        await secrets.close();
      }
    }
  });

  it('check-env says so and exits 2', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'check-env-region-'));
    const file = join(dir, 'env.schema.json');
    await writeFile(file, JSON.stringify({ secrets: { db: 'string' } }));
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const env = { AWS_REGION: '', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' };
    expect(await runCheckEnv(['--schema', file, '--provider', 'aws'], env, io)).toBe(2);
    expect(lines.join('\n')).toContain('--region');
  });
});
