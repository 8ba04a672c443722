import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encryptFile, Fernet, generateKey } from '@org/backup-crypto';
import { hasCommand } from '@org/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliCommand } from './helpers/cli.js';

let dir: string;
const key = generateKey();
const data = randomBytes(200_003);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'backup-crypto-cli-'));
  await writeFile(join(dir, 'dump.sql'), data);
  // A backup made by the library, so that every test below stands alone and they run at once.
  await encryptFile(join(dir, 'dump.sql'), join(dir, 'dump.sql.fernet'), key);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const env = { BACKUP_ENCRYPTION_KEY: key };
const hasScript = await hasCommand('script');
const oneLine = (s: string) => expect(s).toMatch(/^backup-crypto: [^\n]+\n$/);

// Concurrent: each test spawns processes and waits; every test writes files of its own.
describe.concurrent('backup-crypto CLI', () => {
  it('keygen prints a fresh Fernet key', async () => {
    const { code, stdout } = await cli(['keygen']);
    expect(code).toBe(0);
    const printed = stdout.toString().trim();
    expect(printed).toMatch(/^[A-Za-z0-9_-]{43}=$/);
    expect(() => new Fernet(printed)).not.toThrow();
  });

  it('keygen with an argument is a usage error about keygen, not an unknown command', async () => {
    const { code, stdout, stderr } = await cli(['keygen', 'extra']);
    expect(code).toBe(2);
    expect(stdout.toString()).toBe('');
    oneLine(stderr.toString());
    expect(stderr.toString()).toContain('keygen takes no arguments');
  });

  it('encrypts to one standard token and decrypts it back, file to file', async () => {
    const enc = await cli(['encrypt', 'dump.sql', 'cli.fernet'], { cwd: dir, env });
    expect(enc).toMatchObject({ code: 0, stderr: '' });
    const token = await readFile(join(dir, 'cli.fernet'), 'latin1');
    expect(new Fernet(key).decrypt(token).equals(data)).toBe(true);
    expect((await stat(join(dir, 'cli.fernet'))).mode & 0o777).toBe(0o600);
    const dec = await cli(['decrypt', 'cli.fernet', 'restored.sql'], { cwd: dir, env });
    expect(dec.code).toBe(0);
    expect((await readFile(join(dir, 'restored.sql'))).equals(data)).toBe(true);
  });

  it('reads the key from --key-file, and refuses a key on the command line', async () => {
    await writeFile(join(dir, 'key.txt'), `${key}\n`);
    const ok = await cli(['decrypt', '--key-file', 'key.txt', 'dump.sql.fernet', '-'], {
      cwd: dir,
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout.equals(data)).toBe(true);
    const refused = await cli(['encrypt', '--key', key, 'dump.sql', 'x'], { cwd: dir });
    expect(refused.code).toBe(2);
    oneLine(refused.stderr);
    expect(refused.stderr).toContain('never taken from the command line');
    expect(refused.stderr).not.toContain(key);
    const none = await cli(['encrypt', 'dump.sql', 'x'], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('BACKUP_ENCRYPTION_KEY');
  });

  it('never echoes a key given where a path or a command belongs', async () => {
    const redacted = '[redacted key-like argument]';
    // A key typed by mistake; one starting with "-" would be read as an option (also covered).
    let typed = generateKey();
    while (typed.startsWith('-')) typed = generateKey();
    const keyB64 = Buffer.from(typed, 'base64url').toString('base64'); // the standard alphabet
    const cases = [
      ['decrypt', '--key-file', typed, 'dump.sql.fernet', 'out.sql'],
      ['decrypt', `--key-file=${typed}`, 'dump.sql.fernet', 'out.sql'],
      ['rotate', '--old-key-file', typed, 'dump.sql.fernet', 'out.sql'],
      [typed, 'dump.sql', 'out.fernet'],
      [typed.slice(0, 43), 'dump.sql', 'out.fernet'],
      [keyB64],
      ['encrypt', typed, 'out.fernet'],
      ['decrypt', 'dump.sql.fernet', typed, 'extra'],
      ['encrypt', 'dump.sql', join(typed, 'out.fernet')],
      ['encrypt', `--${typed.slice(2)}`, 'dump.sql', 'out.fernet'],
      ['encrypt', `-${typed.slice(1)}`, 'dump.sql', 'out.fernet'],
    ];
    const results = await Promise.all(cases.map((args) => cli(args, { cwd: dir, env })));
    for (const [i, r] of results.entries()) {
      const args = cases[i]!;
      expect(r.code, args.join(' ')).not.toBe(0);
      oneLine(r.stderr);
      expect(r.stderr, args.join(' ')).not.toContain(typed.slice(2, 42));
      expect(r.stderr, args.join(' ')).not.toContain(keyB64.slice(2, 42));
      expect(r.stderr.slice(0, 20), args.join(' ')).toMatch(/^backup-crypto: /);
    }
    const asCommand = results[3]!; // [typed, 'dump.sql', 'out.fernet']
    expect(asCommand.code).toBe(2);
    expect(asCommand.stderr).toContain(`unknown command ${redacted}`);
    const [asKeyFile, missing] = await Promise.all([
      cli(['decrypt', '--key-file', typed, 'dump.sql.fernet', 'o'], { cwd: dir }),
      cli(['encrypt', 'nope.sql', 'o'], { cwd: dir, env }),
    ]);
    expect(asKeyFile.stderr).toContain(redacted);
    expect(asKeyFile.stderr).toContain('ENOENT');
    // An ordinary path is still named.
    expect(missing.stderr).toContain('nope.sql');
  }, 90_000); // fifteen CLI processes at once

  it('takes --ttl as a duration with a unit and refuses a bare number', async () => {
    const fresh = await cli(['decrypt', '--ttl', '7d', 'dump.sql.fernet', '-'], { cwd: dir, env });
    expect(fresh.code).toBe(0);
    expect(fresh.stdout.equals(data)).toBe(true);
    const bare = await cli(['decrypt', '--ttl', '60', 'dump.sql.fernet', '-'], { cwd: dir, env });
    expect(bare.code).toBe(2);
    oneLine(bare.stderr);
    expect(bare.stderr).toContain('--ttl must be a duration with a unit');
    const old = join(dir, 'old.fernet');
    await writeFile(old, new Fernet(key).encrypt('x', { timestamp: 1_000_000 }));
    const expired = await cli(['decrypt', '--ttl', '90s', old, '-'], { env });
    expect(expired.code).toBe(1);
    expect(expired.stderr).toContain('ERR_FERNET_TOKEN_EXPIRED');
    expect(expired.stdout).toHaveLength(0);
  });

  it('fails with one line and leaves no output behind on a wrong key or a tampered file', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const enc = await readFile(join(dir, 'dump.sql.fernet'));
    enc[enc.length - 50] = enc[enc.length - 50] === 0x41 ? 0x42 : 0x41;
    await writeFile(join(sub, 'bad.fernet'), enc);
    const tampered = await cli(['decrypt', 'bad.fernet', 'out.sql'], { cwd: sub, env });
    expect(tampered.code).toBe(1);
    oneLine(tampered.stderr);
    expect(tampered.stderr).toContain('ERR_FERNET_INVALID_TOKEN');
    const toStdout = await cli(['decrypt', 'bad.fernet', '-'], { cwd: sub, env });
    expect(toStdout.code).toBe(1);
    expect(toStdout.stdout).toHaveLength(0);
    const wrongKey = await cli(['decrypt', join(dir, 'dump.sql.fernet'), 'out.sql'], {
      cwd: sub,
      env: { BACKUP_ENCRYPTION_KEY: generateKey() },
    });
    expect(wrongKey.code).toBe(1);
    oneLine(wrongKey.stderr);
    const missing = await cli(['encrypt', 'nope.sql', 'out.fernet'], { cwd: sub, env });
    expect(missing.code).toBe(1);
    oneLine(missing.stderr);
    expect(await readdir(sub)).toEqual(['bad.fernet']);
  });

  it('rotates to the current key with old keys from env and --old-key-file', async () => {
    const next = generateKey();
    await writeFile(join(dir, 'old.key'), key);
    const byFile = await cli(['rotate', '--old-key-file', 'old.key', 'dump.sql.fernet', 'r1'], {
      cwd: dir,
      env: { BACKUP_ENCRYPTION_KEY: next },
    });
    expect(byFile.code).toBe(0);
    const token = await readFile(join(dir, 'r1'), 'latin1');
    expect(new Fernet(next).decrypt(token).equals(data)).toBe(true);
    const byEnv = await cli(['rotate', 'dump.sql.fernet', 'r2'], {
      cwd: dir,
      env: { BACKUP_ENCRYPTION_KEY: next, BACKUP_ENCRYPTION_OLD_KEYS: `${generateKey()},${key}` },
    });
    expect(byEnv.code).toBe(0);
    const without = await cli(['rotate', 'dump.sql.fernet', 'r3'], {
      cwd: dir,
      env: { BACKUP_ENCRYPTION_KEY: next },
    });
    expect(without.code).toBe(1);
    await expect(stat(join(dir, 'r3'))).rejects.toThrow();
  });

  it('--chunked streams through stdin and stdout, and rotates chunk by chunk', async () => {
    const enc = await cli(['encrypt', '--chunked', '--chunk-size', '65536', '-', '-'], {
      env,
      input: data,
    });
    expect(enc.code).toBe(0);
    expect(enc.stdout.toString().split('\n').filter(Boolean)).toHaveLength(4);
    const next = generateKey();
    await writeFile(join(dir, 'c.fernet'), enc.stdout);
    const rot = await cli(['rotate', '--chunked', 'c.fernet', 'c2.fernet'], {
      cwd: dir,
      env: { BACKUP_ENCRYPTION_KEY: next, BACKUP_ENCRYPTION_OLD_KEYS: key },
    });
    expect(rot.code).toBe(0);
    const dec = await cli(['decrypt', '--chunked', 'c2.fernet', '-'], {
      cwd: dir,
      env: { BACKUP_ENCRYPTION_KEY: next },
    });
    expect(dec.code).toBe(0);
    expect(dec.stdout.equals(data)).toBe(true);
    const cut = enc.stdout.subarray(0, enc.stdout.lastIndexOf('\n', enc.stdout.length - 2) + 1);
    const truncated = await cli(['decrypt', '--chunked', '-', '-'], { env, input: cut });
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toContain('ERR_FERNET_TRUNCATED');
  });

  it.runIf(hasScript)('draws a progress bar on a terminal for large files', async () => {
    await writeFile(join(dir, 'big.sql'), randomBytes(6 * 1024 * 1024));
    const cmd = [...cliCommand, 'encrypt', 'big.sql', 'big.fernet'].map((a) => `'${a}'`).join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qec', cmd, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    expect(stdout).toMatch(/encrypt \[#+\] 100% {2}6\.0\/6\.0 MiB/);
  });
});
