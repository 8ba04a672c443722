/**
 * Fernet throughput of @org/backup-crypto against the `fernet` npm package, Python's
 * `cryptography` (timed inside Python) and this machine's limit from `openssl speed`
 * (AES-128-CBC and HMAC-SHA256 together: 1 / (1/aes + 1/hmac)), plus the peak RSS of streaming
 * 1 GiB. Run from packages/backup-crypto after a build: `pnpm run build && pnpm run bench`.
 * Figures are from one run on a shared machine: read the ratios, not the absolute numbers.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Bench } from 'tinybench';
import { createDecryptStream, createEncryptStream, Fernet, generateKey } from '../src/index.js';

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const MiB = 1024 * 1024;
const key = generateKey();
const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(0));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`;

interface Row {
  size: string;
  op: 'encrypt' | 'decrypt';
  ours: number;
  npm?: number;
  npmNote?: string;
  python?: number;
}

/** Throughput in MB/s (10^6 bytes) reported by `openssl speed` for 16 KiB blocks. */
async function opensslSpeed(args: string[]): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-bytes', '16384', '-seconds', '3', ...args]);
  const last = stdout.trim().split('\n').at(-1)!;
  const k = Number(last.trim().split(/\s+/).at(-1)!.replace(/k$/, ''));
  return (k * 1000) / 1e6;
}

async function ours(data: Buffer, iterations: number) {
  const f = new Fernet(key);
  if (data.length <= MiB) {
    const token = f.encrypt(data);
    const bench = new Bench({ time: 2000, warmupTime: 300 });
    bench.add('encrypt', () => void f.encrypt(data)).add('decrypt', () => void f.decrypt(token));
    await bench.run();
    const ms = (name: string) => bench.getTask(name)!.result!.latency.p50!;
    return {
      encrypt: mbps(data.length, ms('encrypt') / 1000),
      decrypt: mbps(data.length, ms('decrypt') / 1000),
    };
  }
  const enc: number[] = [];
  const dec: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let t = performance.now();
    const token = f.encrypt(data);
    enc.push((performance.now() - t) / 1000);
    t = performance.now();
    f.decrypt(token);
    dec.push((performance.now() - t) / 1000);
  }
  return { encrypt: mbps(data.length, median(enc)), decrypt: mbps(data.length, median(dec)) };
}

/** Streams `data` (64 KiB writes) through a Transform into a sink that drops it; MB/s of input. */
async function streamed(data: Buffer, stage: Transform): Promise<number> {
  const slices = function* () {
    for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
  };
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const t = performance.now();
  await pipeline(Readable.from(slices()), stage, sink);
  return mbps(data.length, (performance.now() - t) / 1000);
}

async function child(cmd: string, args: string[], timeoutMs: number) {
  const { stdout } = await run(cmd, args, {
    env: { ...process.env, BACKUP_ENCRYPTION_KEY: key },
    maxBuffer: 16 * MiB,
    timeout: timeoutMs,
  });
  return JSON.parse(stdout) as { encrypt: number[]; decrypt: number[] };
}

const dir = await mkdtemp(join(tmpdir(), 'backup-crypto-bench-'));
try {
  console.log(
    'openssl speed -evp aes-128-cbc / -hmac sha256 / -evp sha256 (16 KiB blocks, 3 s each)…',
  );
  const aes = await opensslSpeed(['-evp', 'aes-128-cbc']);
  const hmac = await opensslSpeed(['-hmac', 'sha256']);
  const sha = await opensslSpeed(['-evp', 'sha256']);
  const limit = 1 / (1 / aes + 1 / hmac);
  console.log(
    `aes-128-cbc ${fmt(aes)} MB/s, hmac(sha256) ${fmt(hmac)} MB/s, sha256 ${fmt(sha)} MB/s → limit ${fmt(limit)} MB/s`,
  );

  const rows: Row[] = [];
  for (const [label, size, iterations] of [
    ['1 MiB', MiB, 30],
    ['256 MiB', 256 * MiB, 3],
  ] as const) {
    console.log(`${label}: ours…`);
    // ASCII data, because the fernet npm package only takes and returns UTF-8 strings.
    const data = Buffer.from(randomBytes(size).toString('base64').slice(0, size), 'latin1');
    const path = join(dir, `data-${size}`);
    await writeFile(path, data);
    const o = await ours(data, iterations);
    console.log(`${label}: python…`);
    const py = await child(
      'python3',
      [here('./python_bench.py'), path, String(iterations)],
      600_000,
    ).catch((err: Error) => {
      console.warn(`python: ${err.message}`);
      return undefined;
    });
    console.log(`${label}: fernet npm…`);
    let npmNote: string | undefined;
    const npm = await child(
      process.execPath,
      [here('./fernet-npm-child.cjs'), String(size), String(size > MiB ? 1 : iterations), key],
      180_000,
    ).catch((err: Error & { killed?: boolean; stderr?: string }) => {
      npmNote = err.killed
        ? 'did not finish within 180 s'
        : `crashed: ${
            (err.stderr ?? err.message)
              .split('\n')
              .find((l) => /fatal|error|heap/i.test(l))
              ?.replace(/^#\s*/, '')
              .trim() ?? 'no message'
          }`;
      return undefined;
    });
    for (const op of ['encrypt', 'decrypt'] as const) {
      rows.push({
        size: label,
        op,
        ours: o[op],
        npm: npm && mbps(size, median(npm[op])),
        npmNote,
        python: py && mbps(size, median(py[op])),
      });
    }
    if (size > MiB) {
      console.log(`${label}: ours, streamed…`);
      const token = Buffer.from(new Fernet(key).encrypt(data), 'latin1');
      const enc = await streamed(data, createEncryptStream(key));
      const dec = await streamed(token, createDecryptStream(key));
      rows.push({ size: `${label} streamed`, op: 'encrypt', ours: enc, npmNote: 'no stream API' });
      rows.push({
        size: `${label} streamed`,
        op: 'decrypt',
        ours: (dec * size) / token.length,
        npmNote: 'no stream API',
      });
    }
  }

  console.log('peak RSS while streaming 1 GiB (built package, own process)…');
  const rss: Record<string, { maxRssBytes: number; seconds: number }> = {};
  for (const mode of ['token', 'chunked']) {
    const { stdout } = await run(
      process.execPath,
      [here('./rss-child.mjs'), String(1024 * MiB), mode],
      {
        timeout: 600_000,
      },
    );
    rss[mode] = JSON.parse(stdout);
  }

  console.log(
    '\n| size | op | @org/backup-crypto MB/s | fernet (npm) MB/s | Python cryptography MB/s | openssl limit MB/s | vs npm | vs Python | % of limit |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const npmCell = r.npm === undefined ? (r.npmNote ?? 'n/a') : fmt(r.npm);
    console.log(
      `| ${r.size} | ${r.op} | ${fmt(r.ours)} | ${npmCell} | ${fmt(r.python)} | ${fmt(limit)} | ${ratio(r.ours, r.npm)} | ${ratio(r.ours, r.python)} | ${((r.ours / limit) * 100).toFixed(0)} % |`,
    );
  }
  console.log(
    `\nopenssl: aes-128-cbc ${fmt(aes)} MB/s, hmac(sha256) ${fmt(hmac)} MB/s, sha256 ${fmt(sha)} MB/s; limit = 1/(1/aes + 1/hmac) = ${fmt(limit)} MB/s`,
  );
  for (const [mode, r] of Object.entries(rss)) {
    console.log(
      `peak RSS streaming 1 GiB (${mode} encrypt → decrypt, one process): ${(r.maxRssBytes / MiB).toFixed(1)} MiB, ${fmt(mbps(1024 * MiB, r.seconds))} MB/s through both`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
