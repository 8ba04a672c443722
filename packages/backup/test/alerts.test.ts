import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import {
  fillDatabase,
  freshDatabase,
  newKey,
  pgAvailable,
  writeTwoTargetConfig,
} from './harness.js';

interface Line {
  message?: string;
  fingerprint?: string[];
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
}

describe.runIf(pgAvailable)('the CLI alerts through @org/alerts', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  let config: string;
  const key = newKey();

  beforeAll(async () => {
    source = await freshDatabase('alerts');
    await fillDatabase(source.url, 20);
    dir = await mkdtemp(join(tmpdir(), 'backup-alerts-'));
    config = await writeTwoTargetConfig(dir);
  });
  afterAll(async () => {
    await source?.drop();
  });

  const partialRun = async () => {
    let err = '';
    let out = '';
    const env = { DATABASE_URL: source.url, BACKUP_ENCRYPTION_KEY: key, K: 'test', S: 'test' };
    const code = await main(['run', '--config', config, '--json'], {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
      tty: false,
      env,
    });
    expect(code).toBe(EXIT.partial);
    const id = (JSON.parse(out) as { id: string }).id;
    const lines = err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(1);
    return { id, line: lines[0]! };
  };

  it('two partial runs: one fingerprint (kind, database, target, code), the id only in tags and data', async () => {
    const a = await partialRun();
    const b = await partialRun();
    expect(a.id).not.toBe(b.id);
    expect(a.line.fingerprint).toEqual([
      'backup',
      'backup_partial',
      source.name,
      's3',
      'ERR_BACKUP_UPLOAD_FAILED',
    ]);
    expect(b.line.fingerprint).toEqual(a.line.fingerprint);
    expect(a.line.message).toBe(b.line.message);
    expect(a.line.message).not.toContain(a.id);
    expect(a.line.tags?.backup_id).toBe(a.id);
    expect(b.line.tags?.backup_id).toBe(b.id);
    expect(a.line.tags?.['alert.kind']).toBe('backup_partial');
    expect(a.line.extra?.backupId).toBe(a.id);
  });
});
