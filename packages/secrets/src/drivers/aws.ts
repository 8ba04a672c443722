import type {
  BatchGetSecretValueCommandOutput,
  GetSecretValueCommandInput,
  SecretsManagerClient,
  SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { check, invalidOption, SecretsError, SecretsErrorCode } from '../errors.js';
import type { FetchedSecret, ProviderRequest, SecretsProvider } from '../provider.js';

/** Options of {@link awsProvider}. */
export interface AwsProviderOptions {
  /**
   * A `SecretsManagerClient` the app holds: used as is, and left open by `close()`. Without it,
   * the provider creates one from `clientConfig` on first use and destroys it on `close()`.
   */
  client?: SecretsManagerClient | undefined;
  /**
   * The configuration of the client the provider creates (`region`, `endpoint`,
   * `credentials`…); ignored with `client`. @default {} (the SDK's own region and credential chain)
   */
  clientConfig?: SecretsManagerClientConfig | undefined;
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

// BatchGetSecretValue takes at most 20 names per call.
const BATCH = 20;

async function loadSdk(): Promise<Sdk> {
  try {
    return await import('@aws-sdk/client-secrets-manager');
  } catch (cause) {
    throw invalidOption(
      'The aws provider needs @aws-sdk/client-secrets-manager: install it next to @org/secrets (npm install @aws-sdk/client-secrets-manager)',
      cause,
    );
  }
}

const NOT_FOUND = new Set(['ResourceNotFoundException']);
const DENIED = new Set([
  'AccessDeniedException',
  'DecryptionFailure',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);

function errorName(err: unknown): string {
  return typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name) : '';
}

/** Secrets Manager's answer for a secret scheduled for deletion: gone, as far as the app goes. */
function markedDeleted(err: unknown): boolean {
  return (
    errorName(err) === 'InvalidRequestException' &&
    /marked (for )?delet/i.test(String((err as { message?: unknown }).message))
  );
}

/** The SDK's refusal to start without a region: a setting to fix, not an outage to wait out. */
function regionMissing(err: unknown): boolean {
  return /^Region (is missing|not accepted)/.test(String((err as { message?: unknown })?.message));
}

function noRegion(cause: unknown): SecretsError {
  return invalidOption(
    'No AWS region for Secrets Manager: set AWS_REGION, or pass clientConfig.region (check-env: --region)',
    cause,
  );
}

function denied(name: string, cause: unknown): SecretsError {
  return new SecretsError(
    SecretsErrorCode.AccessDenied,
    `Secrets Manager refused to read "${name}" (${errorName(cause)}); grant secretsmanager:GetSecretValue (and kms:Decrypt) to the app's role.`,
    { secretName: name, cause },
  );
}

function fetched(
  out: { SecretString?: string; SecretBinary?: Uint8Array; VersionId?: string },
  name: string,
): FetchedSecret {
  const value = out.SecretString ?? out.SecretBinary;
  if (value === undefined) {
    throw new SecretsError(
      SecretsErrorCode.InvalidFormat,
      `Secrets Manager returned neither SecretString nor SecretBinary for "${name}"; put a value in it.`,
      { secretName: name },
    );
  }
  return { value, versionId: out.VersionId };
}

/**
 * Secrets from AWS Secrets Manager, through `@aws-sdk/client-secrets-manager` (an optional peer,
 * loaded on first use). Text and binary secrets, version stages and ids, `BatchGetSecretValue`
 * for `preload`. Every call gets the signal the secrets client bounds with its `timeout`.
 */
export function awsProvider(options: AwsProviderOptions = {}): SecretsProvider {
  const opts = check.object(options, 'awsProvider options');
  const own = opts.client === undefined;
  let client: SecretsManagerClient | undefined = opts.client;
  let sdk: Promise<Sdk> | undefined;
  const ready = async (): Promise<{ sdk: Sdk; client: SecretsManagerClient }> => {
    sdk ??= loadSdk();
    const mod = await sdk;
    try {
      client ??= new mod.SecretsManagerClient(opts.clientConfig ?? {});
    } catch (err) {
      throw regionMissing(err) ? noRegion(err) : err;
    }
    return { sdk: mod, client };
  };

  return {
    kind: 'aws',
    async get(request: ProviderRequest) {
      const { sdk: mod, client: c } = await ready();
      const input: GetSecretValueCommandInput = { SecretId: request.name };
      const v = request.version;
      if (typeof v === 'string') input.VersionStage = v;
      else if (v !== undefined) input.VersionId = v.versionId;
      try {
        const out = await c.send(new mod.GetSecretValueCommand(input), {
          abortSignal: request.signal,
        });
        return fetched(out, request.name);
      } catch (err) {
        if (NOT_FOUND.has(errorName(err)) || markedDeleted(err)) return undefined;
        if (DENIED.has(errorName(err))) throw denied(request.name, err);
        if (regionMissing(err)) throw noRegion(err);
        throw err;
      }
    },
    async getMany(requests, signal) {
      const { sdk: mod, client: c } = await ready();
      const found = new Map<string, FetchedSecret>();
      for (let i = 0; i < requests.length; i += BATCH) {
        const ids = requests.slice(i, i + BATCH).map((r) => r.name);
        let token: string | undefined;
        do {
          const out: BatchGetSecretValueCommandOutput = await c
            .send(new mod.BatchGetSecretValueCommand({ SecretIdList: ids, NextToken: token }), {
              abortSignal: signal,
            })
            .catch((err: unknown) => {
              throw regionMissing(err) ? noRegion(err) : err;
            });
          for (const s of out.SecretValues ?? []) {
            const name = ids.find((id) => id === s.Name || id === s.ARN) ?? s.Name;
            if (name !== undefined && (s.SecretString ?? s.SecretBinary) !== undefined) {
              found.set(name, fetched(s, name));
            }
          }
          token = out.NextToken;
        } while (token);
      }
      return found;
    },
    describe: (r) => `Secrets Manager ${r.name}`,
    close() {
      if (own) client?.destroy();
      client = own ? undefined : client;
    },
  };
}
