#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { AbortedError, isAbortedError, isOrgError, toMs } from '@org/core';
import { decryptCommand, encryptCommand, rotateCommand } from './cli-commands.js';
import { loadKeys, usageError } from './cli-keys.js';
import { redactKeyLike, showArgument } from './cli-redact.js';
import { FernetErrorCode, isFernetError } from './errors.js';
import { generateKey } from './key.js';

const USAGE = `usage: backup-crypto keygen
       backup-crypto encrypt [--chunked] [--chunk-size BYTES] IN OUT
       backup-crypto decrypt [--chunked] [--ttl DURATION] IN OUT
       backup-crypto rotate  [--chunked] [--chunk-size BYTES] IN OUT

IN and OUT are files, or - for stdin / stdout. OUT appears only complete: it is written to a
temporary file beside it and moved into place once everything has verified.

keys: the current key from BACKUP_ENCRYPTION_KEY or --key-file FILE (never from the command
line); old keys, accepted by decrypt and rotate, from BACKUP_ENCRYPTION_OLD_KEYS (comma-separated)
or --old-key-file FILE (repeatable). rotate re-encrypts under the current key.

--chunked  the chunked format: one Fernet token per line, each verified before its data is
           released (decrypt --chunked may be piped straight into psql)
--ttl      the oldest backup decrypt accepts, with a unit: 90s, 15m, 12h, 7d, 2w`;

const commands = { encrypt: encryptCommand, decrypt: decryptCommand, rotate: rotateCommand };

async function main(argv: string[]): Promise<void> {
  if (argv.some((a) => a === '--key' || a.startsWith('--key=') || a === '--old-key')) {
    throw usageError(
      'keys are never taken from the command line (ps and shell history would show them): ' +
        'use BACKUP_ENCRYPTION_KEY or --key-file FILE',
    );
  }
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'key-file': { type: 'string' },
      'old-key-file': { type: 'string', multiple: true },
      chunked: { type: 'boolean', default: false },
      'chunk-size': { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, input, output, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === 'keygen') {
    if (input !== undefined) throw usageError('keygen takes no arguments: backup-crypto keygen');
    process.stdout.write(`${generateKey()}\n`);
    return;
  }
  if (!(command === 'encrypt' || command === 'decrypt' || command === 'rotate')) {
    throw usageError(command ? `unknown command ${showArgument(command)}` : 'no command given');
  }
  if (input === undefined || output === undefined || extra.length > 0) {
    throw usageError(`${command} needs exactly two arguments: IN OUT (use - for stdin/stdout)`);
  }
  const number = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw usageError(`--${name} must be a whole number`);
    return n;
  };
  const duration = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    // A bare number is refused (core's toMs wants a unit): `--ttl 60` used to mean seconds.
    const ms = toMs(text);
    if (ms === undefined) {
      throw usageError(`--${name} must be a duration with a unit, such as 90s, 15m, 12h, 7d`);
    }
    return ms;
  };
  const ac = new AbortController();
  const stop = (signal: NodeJS.Signals) =>
    ac.abort(new AbortedError(signal, `${command} (${signal})`));
  process.once('SIGINT', stop).once('SIGTERM', stop);
  await commands[command]({
    input,
    output,
    keys: await loadKeys({
      keyFile: values['key-file'],
      oldKeyFiles: values['old-key-file'],
      env: process.env,
    }),
    chunked: values.chunked,
    chunkSize: number('chunk-size', values['chunk-size']),
    ttl: duration('ttl', values.ttl),
    signal: ac.signal,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
}

const argv = process.argv.slice(2);
main(argv).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    const e = err instanceof Error ? err : { message: String(err), cause: undefined };
    // A pipeline stopped by the signal rejects with an AbortError whose cause is our reason.
    const cause = isAbortedError(e.cause) ? e.cause : e;
    const usage =
      isFernetError(cause, FernetErrorCode.InvalidArgument) ||
      isFernetError(cause, FernetErrorCode.InvalidOption) ||
      String((cause as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    const code = isOrgError(cause) && !usage ? ` (${cause.code})` : '';
    const hint = usage ? ' (see backup-crypto --help)' : '';
    // Whatever quotes an argument (a file system error, the argument parser) never shows a key.
    const line = redactKeyLike(`${cause.message}${code}${hint}`.replace(/\s*\n\s*/g, ' '), argv);
    process.stderr.write(`backup-crypto: ${line}\n`);
    process.exitCode = usage ? 2 : isAbortedError(cause) ? 130 : 1;
  },
);
