/**
 * The key ring's and the remote verifier's OpenTelemetry instruments and spans (recorded only
 * when the app registers an SDK; see `createTelemetry` in @org/core). Attributes are bounded:
 * an outcome, an error `code`, a fetch reason, the JWKS endpoint; never a token, a claim or a kid.
 */
import { createTelemetry, DURATION_BOUNDARIES, errorType } from '@org/core';
import type { JwksFetchReason } from './jwks-cache.js';

export const telemetry = createTelemetry(
  { name: '@org/key-rotation' },
  {
    signs: {
      kind: 'counter',
      name: 'org.key_rotation.signs',
      unit: '{token}',
      description: 'Tokens signed by the key ring, by outcome (failures by error code).',
    },
    verifies: {
      kind: 'counter',
      name: 'org.key_rotation.verifies',
      unit: '{token}',
      description:
        'Tokens verified, by verifier (ring or remote) and outcome (failures by error code).',
    },
    rotations: {
      kind: 'counter',
      name: 'org.key_rotation.rotations',
      unit: '{rotation}',
      description: 'Rotations of the key ring (a new active key).',
    },
    jwksFetches: {
      kind: 'counter',
      name: 'org.key_rotation.jwks.fetches',
      unit: '{fetch}',
      description: 'JWKS fetches of the remote verifier, by reason and outcome.',
    },
    jwksDuration: {
      kind: 'histogram',
      name: 'org.key_rotation.jwks.fetch.duration',
      unit: 's',
      description: 'Duration of the remote verifier’s JWKS fetches.',
      boundaries: DURATION_BOUNDARIES,
    },
  },
);

const outcome = (err: unknown): Record<string, string> =>
  err === undefined
    ? { 'org.key_rotation.outcome': 'success' }
    : { 'org.key_rotation.outcome': 'failure', 'error.type': errorType(err) };

/** Counts one `sign()`; `err` is what it threw, if it did. */
export function recordSign(err?: unknown): void {
  telemetry.metrics()?.signs.add(1, outcome(err));
}

/** Counts one `verify()` of the ring or of the remote verifier. */
export function recordVerify(verifier: 'ring' | 'remote', err?: unknown): void {
  const m = telemetry.metrics();
  if (m === undefined) return;
  m.verifies.add(1, { 'org.key_rotation.verifier': verifier, ...outcome(err) });
}

/** Counts one rotation. */
export function recordRotation(): void {
  telemetry.metrics()?.rotations.add(1);
}

/**
 * Runs one JWKS download in a client span (child of the caller's span) and records its count
 * and duration. `url` is the endpoint without its query (which may carry a credential).
 */
export function observeJwksFetch<T>(
  url: URL,
  reason: JwksFetchReason,
  fn: (span: { setAttribute(k: string, v: number): unknown } | undefined) => Promise<T>,
): Promise<T> {
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const attributes = {
    'http.request.method': 'GET',
    'url.full': `${url.origin}${url.pathname}`,
    'server.address': url.hostname,
    'server.port': port,
    'org.key_rotation.jwks.reason': reason,
  };
  return telemetry.observe(
    'org.key_rotation.jwks.fetch',
    attributes,
    fn,
    (m, seconds, err) => {
      const recorded = { 'org.key_rotation.jwks.reason': reason, ...outcome(err) };
      m.jwksFetches.add(1, recorded);
      m.jwksDuration.record(seconds, {
        'server.address': url.hostname,
        ...(err === undefined ? {} : { 'error.type': errorType(err) }),
      });
    },
    { kind: 'client' },
  );
}
