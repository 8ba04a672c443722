import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import {
  checkEnv,
  createSecrets,
  createSecretsFromEnv,
  formatEnvReport,
  type SecretsEvents,
} from '@org/secrets';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeProvider, manualClock } from './fake-provider.js';

const EVENTS: (keyof SecretsEvents)[] = ['fetch', 'error', 'stale', 'recovered', 'evict'];

/** Every way a value could leak out of an object: JSON, inspect (deep, hidden, raw), String. */
function renderings(x: unknown): string[] {
  const out = [
    inspect(x, { depth: 20, showHidden: true }),
    inspect(x, { depth: 20, showHidden: true, customInspect: false }),
  ];
  try {
    out.push(JSON.stringify(x) ?? '');
  } catch {
    // cyclic: inspect covers it
  }
  try {
    out.push(String(x));
  } catch {
    // no toString
  }
  return out;
}

// A marker keeps the secret from coinciding with the package's own words ('secret', 'db'…).
const secretArb = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `s3cr3t-${s}`);

describe('no secret value leaks', () => {
  it('through values, errors, events, channels, health and reports', async () => {
    await fc.assert(
      fc.asyncProperty(secretArb, secretArb, async (secret, rotated) => {
        fc.pre(!rotated.includes(secret) && !secret.includes(rotated));
        const seen: unknown[] = [];
        const onChannel = (m: unknown) => seen.push(m);
        for (const e of EVENTS) subscribe(`org:secrets:${e}`, onChannel);
        try {
          const fake = fakeProvider({
            plain: secret,
            json: JSON.stringify({ password: secret, n: 1 }),
            broken: `{${secret}`,
            bin: new TextEncoder().encode(secret),
          });
          const clock = manualClock();
          const secrets = createSecrets({
            provider: fake.provider,
            clock,
            ttl: '1m',
            maxEntries: 3,
          });
          for (const e of EVENTS) secrets.on(e, (p) => seen.push(p));
          const values = [
            await secrets.get('plain'),
            await secrets.get('json', { field: 'password' }),
            await secrets.get('bin'),
          ];
          for (const v of values) expect(v.reveal()).toBe(secret);
          seen.push(...values, { values });
          for (const call of [
            () => secrets.get('broken', { field: 'password' }),
            () => secrets.get('json', { field: 'missing' }),
            () => secrets.get('absent'),
            () => secrets.get('plain', { field: 'x' }),
          ]) {
            seen.push(await call().catch((e: unknown) => e));
          }
          fake.set('plain', rotated);
          fake.state.failing = true;
          clock.advance(60_001);
          seen.push(await secrets.get('plain'));
          seen.push(await secrets.healthCheck());
          fake.state.failing = false;
          clock.advance(120_000);
          seen.push(await secrets.get('plain'));
          await secrets.withSecret('json', async () => 1, { field: 'password' });
          seen.push(secrets);

          const env = { TOKEN: secret, PORT: secret, URL: secret, MODE: secret };
          const fromEnv = createSecretsFromEnv(env, { names: { tok: 'TOKEN' } });
          const report = await checkEnv(
            {
              variables: {
                PORT: 'number',
                URL: 'url',
                MODE: { type: 'enum', values: ['a', 'b'] },
              },
              secrets: { tok: 'integer', other: 'string' },
            },
            { env, secrets: fromEnv },
          );
          seen.push(report, formatEnvReport(report), fromEnv);
          await secrets.close();
          await fromEnv.close();
        } finally {
          for (const e of EVENTS) unsubscribe(`org:secrets:${e}`, onChannel);
        }
        expect(seen.length).toBeGreaterThan(10);
        for (const x of seen) {
          for (const text of renderings(x)) {
            expect(text).not.toContain(secret);
            expect(text).not.toContain(rotated);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
