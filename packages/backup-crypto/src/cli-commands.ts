import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createChunkedDecryptStream } from './chunked-decrypt.js';
import { createChunkedEncryptStream } from './chunked-encrypt.js';
import { PROGRESS_MIN_BYTES, progressBar } from './cli-progress.js';
import { createDecryptStream } from './decrypt-stream.js';
import { createEncryptStream } from './encrypt-stream.js';
import type { FernetKey } from './key.js';
import { parseKey } from './key.js';
import { scanTokenFile } from './key-scan.js';
import { removeStaleScratch, SCRATCH_PREFIX } from './stale-temps.js';
import { withTempOutput } from './temp-output.js';

/** @internal What a CLI command works on. `-` means stdin / stdout. */
export interface CommandContext {
  input: string;
  output: string;
  keys: FernetKey[];
  chunked: boolean;
  chunkSize: number | undefined;
  /** Milliseconds. */
  ttl: number | undefined;
  signal: AbortSignal;
  stdin: Readable;
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

async function transfer(
  ctx: CommandContext,
  label: string,
  input: string,
  output: string,
  stages: Transform[],
) {
  const size = input === '-' ? 0 : (await stat(input)).size;
  const source = input === '-' ? ctx.stdin : createReadStream(input, { highWaterMark: 64 * 1024 });
  const bar =
    ctx.stderr.isTTY && size >= PROGRESS_MIN_BYTES ? [progressBar(label, size, ctx.stderr)] : [];
  const run = (out: Writable) => pipeline([source, ...bar, ...stages, out], { signal: ctx.signal });
  if (output === '-') await run(ctx.stdout);
  else await withTempOutput(output, run);
}

/** Runs `fn` with a private temporary directory that is removed afterwards, whatever happens. */
async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  // What a run killed hard left here (plaintext, for `decrypt … -`) goes first.
  await removeStaleScratch();
  const dir = await mkdtemp(join(tmpdir(), SCRATCH_PREFIX));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A single token must be read twice (to find its key by MAC, then to decrypt): spool stdin. */
async function asFile<T>(ctx: CommandContext, fn: (path: string) => Promise<T>): Promise<T> {
  if (ctx.input !== '-') return fn(ctx.input);
  return withScratch(async (dir) => {
    const path = join(dir, 'input');
    await pipeline(ctx.stdin, createWriteStream(path, { mode: 0o600 }), { signal: ctx.signal });
    return fn(path);
  });
}

/** @internal `encrypt IN OUT` */
export async function encryptCommand(ctx: CommandContext): Promise<void> {
  const stage = ctx.chunked
    ? createChunkedEncryptStream(ctx.keys[0]!, { chunkSize: ctx.chunkSize })
    : createEncryptStream(ctx.keys[0]!);
  await transfer(ctx, 'encrypt', ctx.input, ctx.output, [stage]);
}

/** @internal `decrypt IN OUT`: never writes plaintext to OUT before it has been authenticated. */
export async function decryptCommand(ctx: CommandContext): Promise<void> {
  if (ctx.chunked) {
    // Each chunk is verified before it is written, so this may stream into psql.
    const stage = createChunkedDecryptStream(ctx.keys, { ttl: ctx.ttl });
    await transfer(ctx, 'decrypt', ctx.input, ctx.output, [stage]);
    return;
  }
  await asFile(ctx, async (input) => {
    // With one key there is nothing to find: skip the extra pass over the file.
    const { index } =
      ctx.keys.length === 1
        ? { index: 0 }
        : await scanTokenFile(input, ctx.keys.map(parseKey), ctx.signal);
    const stage = () => createDecryptStream(ctx.keys[index]!, { ttl: ctx.ttl });
    if (ctx.output !== '-') return transfer(ctx, 'decrypt', input, ctx.output, [stage()]);
    // stdout cannot be taken back: decrypt into a private file, release it once verified.
    await withScratch(async (dir) => {
      await transfer(ctx, 'decrypt', input, join(dir, 'plain'), [stage()]);
      await pipeline(createReadStream(join(dir, 'plain')), ctx.stdout, { signal: ctx.signal });
    });
  });
}

/** @internal `rotate IN OUT`: re-encrypts under the current key what any key made. */
export async function rotateCommand(ctx: CommandContext): Promise<void> {
  if (ctx.chunked) {
    const stages = [
      createChunkedDecryptStream(ctx.keys, { ttl: ctx.ttl }),
      createChunkedEncryptStream(ctx.keys[0]!, { chunkSize: ctx.chunkSize }),
    ];
    await transfer(ctx, 'rotate', ctx.input, ctx.output, stages);
    return;
  }
  await asFile(ctx, async (input) => {
    const { index, timestamp } = await scanTokenFile(input, ctx.keys.map(parseKey), ctx.signal);
    const stages = [
      createDecryptStream(ctx.keys[index]!, { ttl: ctx.ttl }),
      createEncryptStream(ctx.keys[0]!, { timestamp }),
    ];
    await transfer(ctx, 'rotate', input, ctx.output, stages);
  });
}
