#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { type Alerts, createAlerts } from '@org/alerts';
import { isOrgError } from '@org/core';
import { redactUrl } from './child.js';
import { type BackupFromEnv, createBackupFromEnv } from './config.js';
import { invalidOption } from './errors.js';
import { progressBar } from './progress.js';

/** Exit codes of the CLI. */
export const EXIT = { ok: 0, failed: 1, partial: 2, usage: 64 } as const;

const USAGE = `Usage: backup <command> [options]

Commands:
  run [--target NAME|all] [--tag TAG]      dump, encrypt and upload to the targets (default: all)
  run --due                                only the targets whose schedule says a backup is due
  list [--target NAME]                     backups on a target, newest first
  restore <ID|latest> --to URL [--force] [--target NAME]
  restore --key OBJECT_KEY --to URL        a file made the legacy way (one Fernet token)
  verify [ID|latest] [--target NAME] [--scratch URL]
                                           restore into a scratch database (on the server of
                                           --scratch, default the database's) and compare every table
  prune [--target NAME] [--dry-run]        delete what each target's retention lets go

Options:
  --config FILE   the config file (default: $BACKUP_CONFIG or ./backup.config.json)
  --json          print the result as JSON
Environment: DATABASE_URL, BACKUP_ENCRYPTION_KEY, BACKUP_ENCRYPTION_OLD_KEYS, BACKUP_CONFIG, BACKUP_DIR,
  SENTRY_DSN (alerts go to Sentry; without it, one JSON line each on stderr)
Exit codes: 0 done, 1 failed, 2 partial (some target failed), 64 usage`;

const COMMANDS = new Set(['run', 'list', 'restore', 'verify', 'prune']);

/** How long the CLI waits for queued alerts to reach Sentry (or stderr) before it exits. */
const ALERT_FLUSH = '5s';

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  tty: boolean;
  env: Record<string, string | undefined>;
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values: v, positionals } = parsed;
  const [command, ref] = positionals;
  if (v.help || command === undefined || command === 'help') {
    io.out(`${USAGE}\n`);
    return command === undefined && !v.help ? EXIT.usage : EXIT.ok;
  }
  // What the command line gets wrong is a usage error (64) before the environment is read: an
  // unknown command must not be answered with "Set DATABASE_URL".
  if (!COMMANDS.has(command)) {
    io.err(`Unknown command "${command.slice(0, 20)}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (command === 'restore') {
    const problem =
      v.to === undefined
        ? 'restore needs --to postgres://…/dbname'
        : v.key === undefined && ref === undefined
          ? 'restore needs an id, latest, or --key'
          : undefined;
    if (problem !== undefined) {
      io.err(`${problem}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
  }
  let made: BackupFromEnv | undefined;
  let alerts: Alerts | undefined;
  const bar = io.tty ? progressBar(io.err) : undefined;
  const print = (text: string, json: unknown) =>
    io.out(v.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  try {
    alerts = createAlerts({
      dsn: io.env.SENTRY_DSN,
      log: (line) => io.err(line.endsWith('\n') ? line : `${line}\n`),
    });
    made = createBackupFromEnv(io.env, { configPath: v.config, alerts });
    const { backup } = made;
    if (bar) backup.on('progress', (p) => bar.update(p));
    const target = v.target === 'all' ? undefined : v.target;
    switch (command) {
      case 'run': {
        let targets = target === undefined ? undefined : [target];
        if (v.due) {
          const due = await backup.due();
          targets = (targets ?? due).filter((t) => due.includes(t));
          if (targets.length === 0) {
            print('nothing due', { status: 'nothing-due' });
            return EXIT.ok;
          }
        }
        const r = await backup.run({
          targets,
          tag: v.tag,
        });
        bar?.done();
        const lines = Object.entries(r.targets).map(
          ([n, t]) => `  ${n}: ${t.status}${t.error ? ` (${t.error})` : ''}`,
        );
        print(
          `backup ${r.id} ${r.status} (${r.manifest.ciphertext.bytes} bytes, ${r.durationMs} ms)\n${lines.join('\n')}`,
          r,
        );
        return r.status === 'complete' ? EXIT.ok : EXIT.partial;
      }
      case 'list': {
        const entries = await backup.list({ target });
        const rows = entries.map(
          (e) =>
            `${e.id}  ${e.status.padEnd(10)} ${String(e.bytes ?? '-').padStart(12)}  ${e.verifiedAt ? `verified ${e.verifiedAt.toISOString()}` : e.verifyFailed ? 'VERIFY FAILED' : ''}${e.tag ? `  [${e.tag}]` : ''}`,
        );
        print(
          rows.join('\n') || '(no backups)',
          entries.map(({ manifest: _m, ...e }) => e),
        );
        return EXIT.ok;
      }
      case 'restore': {
        if (v.to === undefined) throw usage('restore needs --to postgres://…/dbname');
        const what = v.key !== undefined ? { key: v.key } : ref;
        if (what === undefined) throw usage('restore needs an id, latest, or --key');
        const r = await backup.restore(what, { to: v.to, force: v.force, target });
        bar?.done();
        print(`restored ${r.id} from ${r.target} (${r.bytes} bytes, ${r.durationMs} ms)`, r);
        return EXIT.ok;
      }
      case 'verify': {
        const r = await backup.verify(ref ?? 'latest', { target, scratchUrl: v.scratch });
        bar?.done();
        print(
          r.ok
            ? `backup ${r.id} verified: ${r.tables} tables match`
            : `backup ${r.id} FAILED its restore test:\n  ${r.mismatches.join('\n  ')}`,
          r,
        );
        return r.ok ? EXIT.ok : EXIT.failed;
      }
      case 'prune': {
        const results = await backup.prune({ target, dryRun: v['dry-run'] });
        const text = results.map((r) => {
          const gone = r.plan.remove.map(
            (x) => `  ${r.dryRun ? 'would delete' : 'deleted'} ${x.id} (${x.reason})`,
          );
          return `${r.target}: keep ${r.plan.keep.length}, ${r.dryRun ? 'would delete' : 'delete'} ${r.plan.remove.length}\n${gone.join('\n')}`;
        });
        print(text.join('\n'), results);
        return results.some((r) => Object.keys(r.errors).length > 0) ? EXIT.failed : EXIT.ok;
      }
      default:
        throw usage(`Unknown command "${command.slice(0, 20)}"`);
    }
  } catch (err) {
    bar?.done();
    if ((err as { usage?: boolean }).usage) {
      io.err(`${(err as Error).message}\n\n${USAGE}\n`);
      return EXIT.usage;
    }
    const code = isOrgError(err) ? `${err.code}: ` : '';
    io.err(`backup ${command}: ${code}${redactUrl((err as Error).message)}\n`);
    return EXIT.failed;
  } finally {
    await made?.close();
    // Alerts queued by the run reach Sentry (or stderr) before the process exits.
    await alerts?.flush(ALERT_FLUSH).catch(() => {});
    await alerts?.close();
  }
}

function usage(message: string): Error {
  return Object.assign(invalidOption(message), { usage: true });
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      tag: { type: 'string' },
      to: { type: 'string' },
      key: { type: 'string' },
      force: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      due: { type: 'boolean' },
      scratch: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

const isMain =
  process.argv[1] !== undefined && /[\\/](cli\.(c?js|ts)|backup(\.js)?)$/.test(process.argv[1]);
if (isMain) {
  main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    tty: process.stderr.isTTY === true,
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`backup: ${(err as Error).message}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
