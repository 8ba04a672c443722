// Streams SIZE bytes through createEncryptStream → createDecryptStream (or the chunked pair)
// from the BUILT package and reports this process's peak RSS, so the figure is the library's
// and not the bench harness's. usage: node rss-child.mjs SIZE token|chunked [CHUNK_SIZE] → JSON
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createChunkedDecryptStream,
  createChunkedEncryptStream,
  createDecryptStream,
  createEncryptStream,
  generateKey,
} from '../dist/index.js';

const size = Number(process.argv[2]);
const chunked = process.argv[3] === 'chunked';
const key = generateKey();
const block = Buffer.alloc(64 * 1024, 0x61);
let produced = 0;
const source = new Readable({
  read() {
    if (produced >= size) return this.push(null);
    const n = Math.min(block.length, size - produced);
    produced += n;
    this.push(block.subarray(0, n));
  },
});
const hash = createHash('sha256');
let seen = 0;
const sink = new Writable({
  write(chunk, _e, cb) {
    seen += chunk.length;
    hash.update(chunk);
    cb();
  },
});
const baseline = process.memoryUsage().rss;
const started = performance.now();
await pipeline(
  source,
  chunked
    ? createChunkedEncryptStream(key, process.argv[4] ? { chunkSize: Number(process.argv[4]) } : {})
    : createEncryptStream(key),
  chunked ? createChunkedDecryptStream(key) : createDecryptStream(key),
  sink,
);
if (seen !== size) throw new Error(`round trip lost data: ${seen} of ${size}`);
// VmHWM is this process's own peak: getrusage's maxRSS survives exec, so in a child of a big
// parent it would report the parent's size.
const hwm = (() => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
})();
process.stdout.write(
  JSON.stringify({
    maxRssBytes: hwm ?? process.resourceUsage().maxRSS * 1024,
    baselineRssBytes: baseline,
    seconds: (performance.now() - started) / 1000,
  }),
);
