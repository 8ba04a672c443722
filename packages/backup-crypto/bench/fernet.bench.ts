/**
 * Fernet throughput of @org/backup-crypto against the `fernet` npm package, Python's
 * `cryptography` (timed inside Python) and this machine's limit from `openssl speed`
 * (AES-128-CBC and HMAC-SHA256 together: 1 / (1/aes + 1/hmac)), plus the peak RSS of streaming
 * 1 GiB. Run from packages/backup-crypto after a build: `pnpm run build && pnpm run bench`.
 *
 * `openssl speed` divides by CPU time, so every figure here is also given per CPU second (user +
 * system time of the process doing the work), next to wall-clock figures: on a shared machine
 * the wall clock measures the neighbours as much as the code. Figures are from one run.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
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
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : n.toFixed(n < 10 ? 1 : 0));
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`;

/** MB/s by wall clock and per CPU second. */
interface Speed {
  wall: number;
  cpu: number;
}
interface Row {
  size: string;
  op: 'encrypt' | 'decrypt';
  ours: Speed;
  npm?: Speed;
  npmNote?: string;
  python?: Speed;
}
interface Timings {
  encrypt: number[];
  decrypt: number[];
  encryptCpu: number[];
  decryptCpu: number[];
}

/** Throughput in MB/s (10^6 bytes) that `openssl speed` reports for 16 KiB blocks. */
async function opensslSpeed(args: string[]): Promise<number> {
  const { stdout } = await run('openssl', ['speed', '-bytes', '16384', '-seconds', '3', ...args]);
  const last = stdout.trim().split('\n').at(-1)!;
  const k = Number(last.trim().split(/\s+/).at(-1)!.replace(/k$/, ''));
  return (k * 1000) / 1e6;
}

/** Wall and CPU seconds of one call. */
function timed(fn: () => void): [number, number] {
  const t = performance.now();
  const c = process.cpuUsage();
  fn();
  const used = process.cpuUsage(c);
  return [(performance.now() - t) / 1000, (used.user + used.system) / 1e6];
}

const speeds = (bytes: number, t: Timings, op: 'encrypt' | 'decrypt'): Speed => ({
  wall: mbps(bytes, median(t[op])),
  cpu: mbps(bytes * t[op].length, sum(op === 'encrypt' ? t.encryptCpu : t.decryptCpu)),
});

async function ours(data: Buffer, iterations: number): Promise<Timings> {
  const f = new Fernet(key);
  const out: Timings = { encrypt: [], decrypt: [], encryptCpu: [], decryptCpu: [] };
  if (data.length <= MiB) {
    // tinybench for the wall clock (median latency), then a counted loop for CPU time.
    const token = f.encrypt(data);
    const bench = new Bench({ time: 2000, warmupTime: 300 });
    bench.add('encrypt', () => void f.encrypt(data)).add('decrypt', () => void f.decrypt(token));
    await bench.run();
    const p50 = (name: string) => bench.getTask(name)!.result!.latency.p50! / 1000;
    const [, encCpu] = timed(() => {
      for (let i = 0; i < iterations; i++) f.encrypt(data);
    });
    const [, decCpu] = timed(() => {
      for (let i = 0; i < iterations; i++) f.decrypt(token);
    });
    return {
      encrypt: [p50('encrypt')],
      decrypt: [p50('decrypt')],
      encryptCpu: [encCpu / iterations],
      decryptCpu: [decCpu / iterations],
    };
  }
  for (let i = 0; i < iterations; i++) {
    let token = '';
    const [ew, ec] = timed(() => {
      token = f.encrypt(data);
    });
    const [dw, dc] = timed(() => void f.decrypt(token));
    out.encrypt.push(ew);
    out.encryptCpu.push(ec);
    out.decrypt.push(dw);
    out.decryptCpu.push(dc);
  }
  return out;
}

/** Streams `data` (64 KiB writes) through a Transform into a sink that drops it. */
async function streamed(data: Buffer, stage: Transform, bytes: number): Promise<Speed> {
  const slices = function* () {
    for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
  };
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const t = performance.now();
  const c = process.cpuUsage();
  await pipeline(Readable.from(slices()), stage, sink);
  const used = process.cpuUsage(c);
  return {
    wall: mbps(bytes, (performance.now() - t) / 1000),
    cpu: mbps(bytes, (used.user + used.system) / 1e6),
  };
}

async function child(cmd: string, args: string[], timeoutMs: number): Promise<Timings> {
  const { stdout } = await run(cmd, args, {
    env: { ...process.env, BACKUP_ENCRYPTION_KEY: key },
    maxBuffer: 16 * MiB,
    timeout: timeoutMs,
  });
  return JSON.parse(stdout) as Timings;
}

async function peakRss(mode: 'token' | 'chunked') {
  const { stdout } = await run(
    process.execPath,
    [here('./rss-child.mjs'), String(1024 * MiB), mode],
    { timeout: 600_000 },
  );
  return JSON.parse(stdout) as { maxRssBytes: number; baselineRssBytes: number; seconds: number };
}

const dir = await mkdtemp(join(tmpdir(), 'backup-crypto-bench-'));
try {
  // First, while this process is still small.
  console.log('peak RSS while streaming 1 GiB (built package, own process)…');
  const rss = { token: await peakRss('token'), chunked: await peakRss('chunked') };

  console.log('openssl speed -evp aes-128-cbc / -hmac sha256 / -evp sha256 (16 KiB, 3 s each)…');
  const aes = await opensslSpeed(['-evp', 'aes-128-cbc']);
  const hmac = await opensslSpeed(['-hmac', 'sha256']);
  const sha = await opensslSpeed(['-evp', 'sha256']);
  const limit = 1 / (1 / aes + 1 / hmac);

  const rows: Row[] = [];
  const sizes = [
    ['1 MiB', MiB, 30],
    ['256 MiB', 256 * MiB, 3],
  ] as const;
  for (const [label, size, iterations] of sizes) {
    // ASCII data, because the fernet npm package only takes and returns UTF-8 strings.
    const data = Buffer.from(randomBytes(size).toString('base64').slice(0, size), 'latin1');
    const path = join(dir, `data-${size}`);
    await writeFile(path, data);
    console.log(`${label}: @org/backup-crypto…`);
    const o = await ours(data, iterations);
    console.log(`${label}: Python cryptography…`);
    const py = await child(
      'python3',
      [here('./python_bench.py'), path, String(iterations)],
      600_000,
    ).catch((err: Error) => {
      console.warn(`python: ${err.message}`);
      return undefined;
    });
    console.log(`${label}: fernet (npm)…`);
    let npmNote: string | undefined;
    const npmArgs = [
      here('./fernet-npm-child.cjs'),
      String(size),
      String(size > MiB ? 1 : iterations),
      key,
    ];
    const npm = await child(process.execPath, npmArgs, 180_000).catch(
      (err: Error & { killed?: boolean; stderr?: string }) => {
        const lines = (err.stderr ?? err.message).split('\n');
        const why = [/invalid size|out of memory|RangeError/i, /fatal|error/i]
          .map((re) => lines.find((l) => re.test(l)))
          .find((l) => l !== undefined)
          ?.replace(/^#\s*/, '')
          .trim();
        npmNote = err.killed ? 'did not finish in 180 s' : `crashed: ${why ?? 'no message'}`;
        return undefined;
      },
    );
    for (const op of ['encrypt', 'decrypt'] as const) {
      rows.push({
        size: label,
        op,
        ours: speeds(size, o, op),
        npm: npm && speeds(size, npm, op),
        npmNote,
        python: py && speeds(size, py, op),
      });
    }
    if (size > MiB) {
      console.log(`${label}: @org/backup-crypto streams…`);
      const token = Buffer.from(new Fernet(key).encrypt(data), 'latin1');
      const enc = await streamed(data, createEncryptStream(key), size);
      const dec = await streamed(token, createDecryptStream(key), size);
      const note = 'no stream API';
      rows.push({ size: `${label}, streamed`, op: 'encrypt', ours: enc, npmNote: note });
      rows.push({ size: `${label}, streamed`, op: 'decrypt', ours: dec, npmNote: note });
    }
  }

  const cell = (s: Speed | undefined, note?: string) =>
    s === undefined ? (note ?? 'n/a') : `${fmt(s.cpu)} (${fmt(s.wall)})`;
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nNode ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model}), load average ${load} at the end`,
  );
  console.log(
    'MB/s per CPU second (wall clock in parentheses); ratios per CPU second; limit = openssl\n',
  );
  console.log(
    '| size | op | @org/backup-crypto | fernet (npm) | Python cryptography | vs fernet (npm) | vs Python | of openssl limit |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.size} | ${r.op} | ${cell(r.ours)} | ${cell(r.npm, r.npmNote)} | ${cell(r.python, r.python ? undefined : 'in memory only')} | ${ratio(r.ours.cpu, r.npm?.cpu)} | ${ratio(r.ours.cpu, r.python?.cpu)} | ${((r.ours.cpu / limit) * 100).toFixed(0)} % |`,
    );
  }
  console.log(
    `\nopenssl speed (16 KiB blocks, per CPU second): aes-128-cbc ${fmt(aes)} MB/s, hmac(sha256) ${fmt(hmac)} MB/s, sha256 ${fmt(sha)} MB/s; limit 1/(1/aes + 1/hmac) = ${fmt(limit)} MB/s`,
  );
  for (const [mode, r] of Object.entries(rss)) {
    console.log(
      `peak RSS streaming 1 GiB (${mode}: encrypt → decrypt in one process): ${(r.maxRssBytes / MiB).toFixed(1)} MiB (process at start ${(r.baselineRssBytes / MiB).toFixed(1)} MiB), ${fmt(mbps(1024 * MiB, r.seconds))} MB/s through both, wall clock`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
