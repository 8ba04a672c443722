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
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ReadableStream, type TransformStream, WritableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Bench } from 'tinybench';
import {
  createDecryptStream,
  createDecryptWebStream,
  createEncryptStream,
  createEncryptWebStream,
  Fernet,
  generateKey,
} from '../src/index.js';

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
async function opensslSpeed(args: string[], seconds = 3): Promise<number> {
  const { stdout } = await run('openssl', [
    'speed',
    '-bytes',
    '16384',
    '-seconds',
    String(seconds),
    ...args,
  ]);
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
    // tinybench for the wall clock (median latency), then a counted loop for CPU time, long
    // enough (about half a second) not to be one scheduler slice.
    const cpuRounds = Math.max(iterations, 200);
    const token = f.encrypt(data);
    const bench = new Bench({ time: 2000, warmupTime: 300 });
    bench.add('encrypt', () => void f.encrypt(data)).add('decrypt', () => void f.decrypt(token));
    await bench.run();
    const p50 = (name: string) => bench.getTask(name)!.result!.latency.p50! / 1000;
    const [, encCpu] = timed(() => {
      for (let i = 0; i < cpuRounds; i++) f.encrypt(data);
    });
    const [, decCpu] = timed(() => {
      for (let i = 0; i < cpuRounds; i++) f.decrypt(token);
    });
    return {
      encrypt: [p50('encrypt')],
      decrypt: [p50('decrypt')],
      encryptCpu: [encCpu / cpuRounds],
      decryptCpu: [decCpu / cpuRounds],
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

/** The same through a Web TransformStream. */
async function webStreamed(
  data: Buffer,
  stage: TransformStream<Uint8Array, Uint8Array>,
  bytes: number,
): Promise<Speed> {
  const slices = function* () {
    for (let at = 0; at < data.length; at += 64 * 1024) yield data.subarray(at, at + 64 * 1024);
  };
  const t = performance.now();
  const c = process.cpuUsage();
  await ReadableStream.from(slices()).pipeThrough(stage).pipeTo(new WritableStream());
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

/** Runs of each RSS child: the peak varies with GC timing, so the range is what is reported. */
const RSS_RUNS = 5;

/**
 * Parts of encryption's work, per CPU second, on 1 MiB in the slices the library uses: Node's
 * HMAC-SHA256 and base64url into strings, each alone, and `Fernet.encrypt` as a whole; and what
 * first-touching fresh memory costs on this machine (it decides the in-memory 256 MiB figures).
 * AES alone is left out: a loop of bare `cipher.update` calls only makes garbage buffers, so it
 * measures the allocator and GC more than the cipher (see the profile in the README).
 */
function breakdown() {
  const slice = 48 * 1024;
  const data = randomBytes(MiB);
  const k = randomBytes(16);
  // Best of three rounds, each after a warm-up: the cost of the work itself, with as little of
  // the neighbours' interference as one run allows.
  const rate = (fn: () => void) => {
    let best = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++) fn();
      const [, c] = timed(() => {
        for (let i = 0; i < 200; i++) fn();
      });
      best = Math.max(best, mbps(MiB * 200, c));
    }
    return best;
  };
  const f = new Fernet(key);
  const hmac = rate(() => {
    const h = createHmac('sha256', k);
    for (let at = 0; at < MiB; at += slice) h.update(data.subarray(at, at + slice));
    h.digest();
  });
  const base64Slices = rate(() => {
    for (let at = 0; at < MiB; at += slice) data.toString('base64url', at, at + slice);
  });
  const base64Whole = rate(() => void data.toString('base64url'));
  const encrypt = rate(() => void f.encrypt(data));
  const [, touch] = timed(() => void Buffer.allocUnsafe(256 * MiB).fill(1));
  return { hmac, base64Slices, base64Whole, encrypt, touchMsPerMiB: (touch * 1000) / 256 };
}

/** Per CPU second, for about 0.8 s of calls after a warm-up. */
function cpuRate(fn: () => void, bytes: number): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const [, cpu] = timed(() => {
    for (const t = performance.now(); performance.now() - t < 800; n++) fn();
  });
  return mbps(bytes * n, cpu);
}

const ROUNDS = 7;

/**
 * The limit against what JavaScript can reach under it, in interleaved rounds (this machine's
 * speed drifts by ±20 % from one second to the next, so one measurement of the limit against
 * one of ours mostly measures the drift): `openssl speed` for AES-128-CBC and HMAC-SHA256 (1 s
 * each), then node:crypto's AES-128-CBC and HMAC-SHA256 alone on 1 MiB in 48 KiB slices (no
 * header, no base64, no token: the ceiling of any Fernet written on Node's cipher API), then
 * `Fernet.encrypt` of the same 1 MiB. Each is a share of the limit measured in its own round.
 */
async function limitRounds() {
  const data = randomBytes(MiB);
  const k = randomBytes(16);
  const iv = randomBytes(16);
  const f = new Fernet(key);
  const cryptoAlone = () => {
    const cipher = createCipheriv('aes-128-cbc', k, iv);
    const h = createHmac('sha256', k);
    for (let at = 0; at < MiB; at += 48 * 1024)
      h.update(cipher.update(data.subarray(at, at + 48 * 1024)));
    h.update(cipher.final());
    h.digest();
  };
  const rounds: { limit: number; alone: number; encrypt: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const aes = await opensslSpeed(['-evp', 'aes-128-cbc'], 1);
    const hmac = await opensslSpeed(['-hmac', 'sha256'], 1);
    const limit = 1 / (1 / aes + 1 / hmac);
    rounds.push({
      limit,
      alone: cpuRate(cryptoAlone, MiB) / limit,
      encrypt: cpuRate(() => void f.encrypt(data), MiB) / limit,
    });
  }
  return rounds;
}

const startLoad = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
const dir = await mkdtemp(join(tmpdir(), 'backup-crypto-bench-'));
try {
  // First, while this process is still small.
  console.log('peak RSS while streaming 1 GiB (built package, own process)…');
  const rss: Record<'token' | 'chunked', Awaited<ReturnType<typeof peakRss>>[]> = {
    token: [],
    chunked: [],
  };
  for (let i = 0; i < RSS_RUNS; i++) {
    rss.token.push(await peakRss('token'));
    rss.chunked.push(await peakRss('chunked'));
  }

  console.log('openssl speed -evp aes-128-cbc / -hmac sha256 / -evp sha256 (16 KiB, 3 s each)…');
  const aes = await opensslSpeed(['-evp', 'aes-128-cbc']);
  const hmac = await opensslSpeed(['-hmac', 'sha256']);
  const sha = await opensslSpeed(['-evp', 'sha256']);
  const limit = 1 / (1 / aes + 1 / hmac);
  console.log('parts of encryption (1 MiB, per CPU second)…');
  const parts = breakdown();
  console.log(`the limit against node:crypto alone and Fernet.encrypt, ${ROUNDS} rounds…`);
  const shares = await limitRounds();

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
      const webEnc = await webStreamed(data, createEncryptWebStream(key), size);
      const webDec = await webStreamed(token, createDecryptWebStream(key), size);
      rows.push({ size: `${label}, Web stream`, op: 'encrypt', ours: webEnc, npmNote: note });
      rows.push({ size: `${label}, Web stream`, op: 'decrypt', ours: webDec, npmNote: note });
    }
  }

  const cell = (s: Speed | undefined, note?: string) =>
    s === undefined ? (note ?? 'n/a') : `${fmt(s.cpu)} (${fmt(s.wall)})`;
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  console.log(
    `\nload average at the start ${startLoad}; Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model}), load average ${load} at the end`,
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
  const pct = (x: number) => `${((x / limit) * 100).toFixed(0)} %`;
  console.log(
    `\nparts of encryption (1 MiB, 48 KiB slices, MB/s per CPU second, best of 3 rounds of 200): Node HMAC-SHA256 ${fmt(parts.hmac)} (openssl ${fmt(hmac)}), base64url to strings ${fmt(parts.base64Slices)} in 48 KiB slices / ${fmt(parts.base64Whole)} as one 1 MiB string; Fernet.encrypt ${fmt(parts.encrypt)} MB/s = ${pct(parts.encrypt)} of the limit. First-touching fresh memory costs ${parts.touchMsPerMiB.toFixed(2)} ms of CPU per MiB`,
  );
  const share = (x: number) => `${(x * 100).toFixed(0)} %`;
  const spread = (xs: number[]) =>
    `median ${share(median(xs))} (${share(Math.min(...xs))}–${share(Math.max(...xs))})`;
  console.log(
    `\ninterleaved rounds (${ROUNDS}; 1 MiB, 48 KiB slices, share of the limit measured in the same round): limit ${fmt(Math.min(...shares.map((s) => s.limit)))}–${fmt(Math.max(...shares.map((s) => s.limit)))} MB/s; node:crypto AES-128-CBC + HMAC-SHA256 alone (no base64, no token) ${spread(shares.map((s) => s.alone))}; Fernet.encrypt ${spread(shares.map((s) => s.encrypt))}`,
  );
  const mib = (b: number) => (b / MiB).toFixed(1);
  for (const [mode, runs] of Object.entries(rss)) {
    const peaks = runs.map((r) => r.maxRssBytes).sort((a, b) => a - b);
    console.log(
      `peak RSS streaming 1 GiB (${mode}: encrypt → decrypt in one process), ${runs.length} runs: ${mib(peaks[0]!)}–${mib(peaks.at(-1)!)} MiB [${peaks.map(mib).join(', ')}] (process at start ${mib(runs[0]!.baselineRssBytes)} MiB), ${fmt(mbps(1024 * MiB, median(runs.map((r) => r.seconds))))} MB/s through both, wall clock (median)`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
