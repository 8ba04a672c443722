import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../src/cli.js';
import { progressBar } from '../src/progress.js';
import {
  fillDatabase,
  freshDatabase,
  newKey,
  PG_ADMIN,
  pgAvailable,
  sql,
  writeTwoTargetConfig,
} from './harness.js';

function io(env: Record<string, string | undefined>) {
  let out = '';
  let err = '';
  return {
    io: {
      out: (t: string) => {
        out += t;
      },
      err: (t: string) => {
        err += t;
      },
      tty: false,
      env,
    },
    get out() {
      return out;
    },
    get err() {
      return err;
    },
  };
}

describe('the backup CLI without a database', () => {
  it('prints usage (64) for no command or an unknown one, and help (0)', async () => {
    const a = io({});
    expect(await main([], a.io)).toBe(EXIT.usage);
    expect(a.out).toContain('Usage: backup');
    const b = io({ DATABASE_URL: 'postgres://x@127.0.0.1/db', BACKUP_ENCRYPTION_KEY: newKey() });
    expect(await main(['explode'], b.io)).toBe(EXIT.usage);
    expect(b.err).toContain('Unknown command');
    // The command line is checked before the environment: no "Set DATABASE_URL" for a typo.
    const c = io({});
    expect(await main(['explode'], c.io)).toBe(EXIT.usage);
    expect(c.err).toContain('Unknown command "explode"');
    expect(c.err).not.toContain('DATABASE_URL (');
    const d = io({});
    expect(await main(['restore', 'latest'], d.io)).toBe(EXIT.usage);
    expect(d.err).toContain('restore needs --to');
    const e = io({});
    expect(await main(['restore', '--to', 'postgres://x@127.0.0.1/db'], e.io)).toBe(EXIT.usage);
    expect(e.err).toContain('restore needs an id, latest, or --key');
    expect(await main(['--help'], io({}).io)).toBe(EXIT.ok);
    expect(await main(['run', '--bogus'], io({}).io)).toBe(EXIT.usage);
  });

  it('fails with a message that says what to set, and never prints a key', async () => {
    const a = io({ DATABASE_URL: 'postgres://x@127.0.0.1/db' });
    expect(await main(['list'], a.io)).toBe(EXIT.failed);
    expect(a.err).toContain('BACKUP_ENCRYPTION_KEY');
    const secret = 'not-a-key-but-secret-all-the-same-1234567890';
    const b = io({ DATABASE_URL: 'postgres://x:pw@127.0.0.1/db', BACKUP_ENCRYPTION_KEY: secret });
    expect(await main(['list'], b.io)).toBe(EXIT.failed);
    expect(b.err).toContain('ERR_BACKUP_INVALID_OPTION');
    expect(b.err + b.out).not.toContain(secret);
  });

  it('draws a progress bar with a percentage when the total is known', () => {
    let text = '';
    let t = 0;
    const bar = progressBar(
      (s) => {
        text += s;
      },
      () => {
        t += 1000;
        return t;
      },
    );
    bar.update({ operation: 'restore', phase: 'load', bytes: 512 * 1024, totalBytes: 1024 * 1024 });
    bar.done();
    expect(text).toContain('restoring [###############...............]  50% 0.5 MiB');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe.runIf(pgAvailable)('the backup CLI on PostgreSQL and the local disk', () => {
  let source: Awaited<ReturnType<typeof freshDatabase>>;
  let dir: string;
  const drops: (() => Promise<void>)[] = [];
  const key = newKey();
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    source = await freshDatabase('src');
    await fillDatabase(source.url, 200);
    dir = await mkdtemp(join(tmpdir(), 'backup-cli-'));
    env = {
      DATABASE_URL: source.url,
      BACKUP_ENCRYPTION_KEY: key,
      BACKUP_DIR: join(dir, 'backups'),
    };
  });
  afterAll(async () => {
    for (const d of drops) await d();
    await source?.drop();
  });

  it('run, list, restore latest, verify and prune on the default local target', async () => {
    const run = io(env);
    expect(await main(['run', '--tag', 'pre-deploy', '--json'], run.io)).toBe(EXIT.ok);
    const made = JSON.parse(run.out) as { id: string; status: string };
    expect(made.status).toBe('complete');
    const list = io(env);
    expect(await main(['list'], list.io)).toBe(EXIT.ok);
    expect(list.out).toMatch(new RegExp(`^${made.id}  complete .*\\[pre-deploy\\]`));
    const db = await freshDatabase('dst');
    drops.push(db.drop);
    const restore = io(env);
    expect(await main(['restore', 'latest', '--to', db.url], restore.io)).toBe(EXIT.ok);
    expect(restore.out).toContain(`restored ${made.id}`);
    expect(await sql(db.url, 'SELECT count(*)::int AS n FROM notes')).toEqual([{ n: 200 }]);
    const again = io(env);
    expect(await main(['restore', 'latest', '--to', db.url], again.io)).toBe(EXIT.failed);
    expect(again.err).toContain('ERR_BACKUP_TARGET_NOT_EMPTY');
    const verify = io(env);
    expect(await main(['verify'], verify.io)).toBe(EXIT.ok);
    expect(verify.out).toContain('4 tables match');
    const noPolicy = io(env);
    expect(await main(['prune', '--dry-run'], noPolicy.io)).toBe(EXIT.failed);
    // The CLI's user has a config file, not createBackup's options: the message names both.
    expect(noPolicy.err).toContain('"retention" on a target of the config file');
    const config = join(dir, 'backup.config.json');
    await writeFile(
      config,
      JSON.stringify({
        targets: { local: { local: { root: join(dir, 'backups') }, retention: { keepLast: 1 } } },
      }),
    );
    expect(await main(['run'], io(env).io)).toBe(EXIT.ok);
    const prune = io({ ...env, BACKUP_CONFIG: config });
    expect(await main(['prune', '--dry-run'], prune.io)).toBe(EXIT.ok);
    // The newest backup is not verified yet: nothing goes.
    expect(prune.out).toContain('local: keep 2, would delete 0');
    expect(await main(['verify', 'latest'], io(env).io)).toBe(EXIT.ok);
    const after = io({ ...env, BACKUP_CONFIG: config });
    expect(await main(['prune'], after.io)).toBe(EXIT.ok);
    expect(after.out).toContain(`local: keep 1, delete 1\n  deleted ${made.id} (expired)`);
    const listed = io(env);
    await main(['list'], listed.io);
    expect(listed.out.trim().split('\n')).toHaveLength(1);
    expect(listed.out).toContain('verified ');
  });

  it('run --due backs up only what the schedule in the config says is due', async () => {
    const config = join(dir, 'due.config.json');
    await writeFile(
      config,
      JSON.stringify({ targets: { daily: { local: { root: join(dir, 'due') }, schedule: '1d' } } }),
    );
    const first = io({ ...env, BACKUP_CONFIG: config });
    expect(await main(['run', '--due'], first.io)).toBe(EXIT.ok);
    expect(first.out).toMatch(/ complete /);
    const second = io({ ...env, BACKUP_CONFIG: config });
    expect(await main(['run', '--due'], second.io)).toBe(EXIT.ok);
    expect(second.out).toBe('nothing due\n');
    // The restore test on a scratch database made through another connection.
    const verify = io({ ...env, BACKUP_CONFIG: config });
    expect(await main(['verify', '--scratch', PG_ADMIN], verify.io)).toBe(EXIT.ok);
    expect(verify.out).toContain('4 tables match');
  });

  it('exits 2 with an alert line when one target fails, and the other holds the backup', async () => {
    const config = await writeTwoTargetConfig(dir);
    const run = io({ ...env, K: 'test', S: 'test' });
    const code = await main(['run', '--config', config], run.io);
    expect(code).toBe(EXIT.partial);
    expect(run.out).toContain('s3: failed');
    expect(run.out).toContain('disk: complete');
    expect(run.err).toContain('"alert.kind":"backup_partial"');
  });

  it('runs as a process: exit code and stdout of `backup run`', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@org/source',
        '--import',
        'tsx',
        join(import.meta.dirname, '../src/cli.ts'),
        'run',
        '--json',
      ],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ status: 'complete' });
  });
});
