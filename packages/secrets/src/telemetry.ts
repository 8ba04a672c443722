/**
 * The secrets client's OpenTelemetry instruments and spans (recorded only when the app registers
 * an SDK; see `createTelemetry` in @org/core). Attributes are the provider kind, the outcome and
 * the error code: never a secret, nor a secret's name.
 */
import {
  createTelemetry,
  DURATION_BOUNDARIES,
  errorType,
  type TelemetryAttributes,
} from '@org/core';

export const telemetry = createTelemetry(
  { name: '@org/secrets' },
  {
    fetches: {
      kind: 'counter',
      name: 'org.secrets.fetches',
      unit: '{fetch}',
      description:
        'Reads from the provider, by provider, mode (single, batch), outcome and error code.',
    },
    duration: {
      kind: 'histogram',
      name: 'org.secrets.fetch.duration',
      unit: 's',
      description: 'Duration of reads from the provider.',
      boundaries: DURATION_BOUNDARIES,
    },
    staleServes: {
      kind: 'counter',
      name: 'org.secrets.stale_serves',
      unit: '{read}',
      description: 'Reads answered with a cached value past its TTL because the provider failed.',
    },
  },
);

function spanAttributes(provider: string, mode: string, background: boolean): TelemetryAttributes {
  const attributes: TelemetryAttributes = {
    'org.secrets.provider': provider,
    'org.secrets.fetch.mode': mode,
    'org.secrets.fetch.background': background,
  };
  if (provider === 'aws') {
    attributes['rpc.system'] = 'aws-api';
    attributes['rpc.service'] = 'SecretsManager';
    attributes['rpc.method'] = mode === 'batch' ? 'BatchGetSecretValue' : 'GetSecretValue';
  }
  return attributes;
}

/**
 * Runs one read from the provider in a span `secrets fetch` (a child of the caller's; client
 * kind unless the provider is local) and counts it with its duration and outcome.
 */
export function observeFetch<T>(
  provider: string,
  mode: 'single' | 'batch',
  background: boolean,
  fn: () => Promise<T>,
): Promise<T> {
  if (!telemetry.enabled()) return fn();
  return telemetry.observe(
    mode === 'batch' ? 'secrets fetch batch' : 'secrets fetch',
    spanAttributes(provider, mode, background),
    fn,
    (m, seconds, err) => {
      const attributes: TelemetryAttributes = {
        'org.secrets.provider': provider,
        'org.secrets.fetch.mode': mode,
      };
      if (err === undefined) attributes['org.secrets.outcome'] = 'success';
      else {
        attributes['org.secrets.outcome'] = 'failure';
        attributes['error.type'] = errorType(err);
      }
      m.fetches.add(1, attributes);
      m.duration.record(seconds, attributes);
    },
    { kind: provider === 'env' ? 'internal' : 'client' },
  );
}

/** Counts one read served stale. */
export function recordStaleServe(provider: string): void {
  telemetry.metrics()?.staleServes.add(1, { 'org.secrets.provider': provider });
}
