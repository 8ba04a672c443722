import {
  checkEnv,
  createSecretsFromEnv,
  defaultEnvName,
  envProvider,
  formatEnvReport,
  isSecretsError,
} from '@org/secrets';
import { describe, expect, it } from 'vitest';
import { runCheckEnv } from '../src/cli.js';

describe('env names', () => {
  it('follows the documented rule', () => {
    expect(defaultEnvName('cineview-gemini-api', 'cineview-')).toBe('GEMINI_API_KEY');
    expect(defaultEnvName('cineview/database-url', 'cineview/')).toBe('DATABASE_URL');
    expect(defaultEnvName('stripe-secret-key')).toBe('STRIPE_SECRET_KEY');
    expect(defaultEnvName('resend.api')).toBe('RESEND_API_KEY');
  });
});

describe('env provider', () => {
  const env = { GEMINI_API_KEY: 'g-key', DB: '{"password":"pw"}', EMPTY: '', TMDB_TOKEN: 't' };

  it('maps names by rule and explicitly, the prefix applied once', async () => {
    const secrets = createSecretsFromEnv(
      { ...env, SECRETS_PREFIX: 'cineview-' },
      { names: { 'cineview-tmdb': 'TMDB_TOKEN', db: 'DB' } },
    );
    expect((await secrets.get('gemini-api')).reveal()).toBe('g-key');
    expect((await secrets.get('cineview-gemini-api')).reveal()).toBe('g-key');
    expect((await secrets.get('tmdb')).reveal()).toBe('t');
    expect((await secrets.get('db', { field: 'password' })).reveal()).toBe('pw');
    expect(secrets.describe('gemini-api')).toBe('env GEMINI_API_KEY');
    await secrets.close();
  });

  it('in production a missing or empty variable is an error naming it', async () => {
    const secrets = createSecretsFromEnv(
      { ...env, NODE_ENV: 'production' },
      { names: { e: 'EMPTY' } },
    );
    const err = await secrets.get('openai-api', { optional: true }).catch((e: unknown) => e);
    expect(isSecretsError(err, 'ERR_SECRETS_NOT_FOUND')).toBe(true);
    expect((err as Error).message).toContain('openai-api');
    expect((err as Error).message).toContain('OPENAI_API_KEY');
    await expect(secrets.get('e')).rejects.toMatchObject({ code: 'ERR_SECRETS_NOT_FOUND' });
  });

  it('has no versions but the current one', async () => {
    const secrets = createSecretsFromEnv(env);
    await expect(secrets.get('gemini-api', { version: 'AWSPREVIOUS' })).rejects.toMatchObject({
      code: 'ERR_SECRETS_UNSUPPORTED',
    });
    expect(() => envProvider({} as never)).toThrow(/`env`/);
  });
});

describe('checkEnv', () => {
  const schema = {
    variables: {
      DATABASE_URL: 'url',
      PORT: { type: 'number' },
      LOG_LEVEL: { type: 'enum', values: ['debug', 'info'] },
      SENTRY_DSN: { type: 'url', optional: true },
    },
    secrets: { 'gemini-api': 'string', db: { field: 'password' } },
  } as const;

  it('reports every entry, never a value', async () => {
    const env = {
      DATABASE_URL: 'postgres://u:hunter2@db/app',
      PORT: 'eighty',
      LOG_LEVEL: 'trace-secret-level',
      DB: '{"user":"x"}',
    };
    const secrets = createSecretsFromEnv(env, { names: { db: 'DB' } });
    const report = await checkEnv(schema, { env, secrets });
    expect(report.ok).toBe(false);
    const by = Object.fromEntries(report.rows.map((r) => [r.name, r.status]));
    expect(by).toEqual({
      DATABASE_URL: 'ok',
      PORT: 'invalid',
      LOG_LEVEL: 'invalid',
      SENTRY_DSN: 'skipped',
      'gemini-api': 'missing',
      db: 'invalid',
    });
    const text = formatEnvReport(report) + JSON.stringify(report);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('eighty');
    expect(text).not.toContain('trace-secret-level');
    expect(text).toContain('GEMINI_API_KEY');
  });

  it('the CLI exits 0, 1 or 2 and prints no value', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'check-env-'));
    const file = join(dir, 'env.schema.json');
    await writeFile(file, JSON.stringify(schema));
    const good = {
      DATABASE_URL: 'https://x.test',
      PORT: '80',
      LOG_LEVEL: 'info',
      GEMINI_API_KEY: 'sekret-gemini',
      DB_PASSWORD_JSON: '{"password":"sekret-pw"}',
      DB: '{"password":"sekret-pw"}',
    };
    expect(await runCheckEnv(['--schema', file], good, io)).toBe(0);
    expect(await runCheckEnv(['--schema', file], { ...good, PORT: 'x' }, io)).toBe(1);
    expect(await runCheckEnv(['--schema', file, '--json'], {}, io)).toBe(1);
    expect(await runCheckEnv(['--nope'], good, io)).toBe(2);
    expect(await runCheckEnv(['--schema', join(dir, 'missing.json')], good, io)).toBe(2);
    expect(await runCheckEnv(['--schema', file, '--timeout', 'soon'], good, io)).toBe(2);
    const mjs = join(dir, 'env.schema.mjs');
    await writeFile(mjs, `export default ${JSON.stringify(schema)};`);
    expect(await runCheckEnv(['--schema', mjs], good, io)).toBe(0);
    expect(await runCheckEnv(['--help'], good, io)).toBe(0);
    // A schema that is no schema: neither a .env's value nor a module's secret comes back.
    const dotenv = join(dir, '.env');
    await writeFile(dotenv, 'sk_live_dotenv_value_1234\nDB=x\n');
    expect(await runCheckEnv(['--schema', dotenv], good, io)).toBe(2);
    const throwing = join(dir, 'throws.mjs');
    await writeFile(throwing, 'throw new Error("postgres://admin:sekret-module@db/app refused");');
    expect(await runCheckEnv(['--schema', throwing], good, io)).toBe(2);
    const refused = lines.slice(-2).join('\n');
    expect(refused).toContain('it is not JSON');
    expect(refused).toContain('postgres://***@db');
    expect(refused).not.toContain('sk_live');
    const out = lines.join('\n');
    expect(out).not.toContain('sekret');
    expect(out).toContain('INVALID');
    expect(out).toContain('"status": "missing"');
  });
});
