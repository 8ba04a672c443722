// Streams SIZE bytes through one put (or one getStream) and prints, as JSON, the peak RSS
// (VmHWM) and the peaks of `process.memoryUsage()` sampled every
// 20 ms over the transfer (heapTotal: V8's heap, young generation included; arrayBuffers:
// Buffers, part buffers included). Plain JavaScript on the built package (`pnpm build` first),
// run in a fresh process by storage.bench.ts so that nothing else shares its heap.
// Modes: storage | sdk (puts), storage-get | sdk-get (downloads of rss/storage.bin).
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createStorage } from '@org/storage';

const [endpoint, bucket, mode, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const MiB = 1024 * 1024;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const chunk = Buffer.alloc(MiB, 0x5a);
function body() {
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      left -= chunk.length;
      this.push(chunk);
    },
  });
}
async function drain(stream) {
  let n = 0;
  for await (const c of stream) n += c.length;
  if (n !== size) throw new Error(`read ${n} bytes, expected ${size}`);
}
// Load the SDK in every mode before measuring the baseline.
await import('@org/storage/s3');
const baselineMiB = process.memoryUsage().rss / MiB;
const peak = { heapTotal: 0, arrayBuffers: 0 };
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
  peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
}, 20);
const started = performance.now();
if (mode === 'storage' || mode === 'storage-get') {
  // idleTimeout: moto's CompleteMultipartUpload and CopyObject of 1 GiB can outlast 30 s here.
  const s3 = { bucket, endpoint, forcePathStyle: true, credentials, idleTimeout: 300_000 };
  if (process.env.BENCH_PART_MIB) s3.partSize = Number(process.env.BENCH_PART_MIB) * MiB;
  if (process.env.BENCH_QUEUE) s3.queueSize = Number(process.env.BENCH_QUEUE);
  const storage = createStorage({ s3 });
  if (mode === 'storage') await storage.put('rss/storage.bin', body());
  else await drain(await storage.getStream('rss/storage.bin'));
  await storage.close();
} else {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  if (mode === 'sdk') {
    await new Upload({
      client,
      params: { Bucket: bucket, Key: 'rss/sdk.bin', Body: body() },
      partSize: 8 * MiB,
      queueSize: 4,
    }).done();
  } else {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'rss/storage.bin' }));
    await drain(res.Body);
  }
  client.destroy();
}
const seconds = (performance.now() - started) / 1000;
// VmHWM, this process's own peak: getrusage's maxRSS survives exec, so in a child of a larger
// parent (the bench) it reports the parent's size instead.
function peakRssKiB() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {}
  return process.resourceUsage().maxRSS;
}
clearInterval(sampler);
console.log(
  JSON.stringify({
    mode,
    maxRssMiB: peakRssKiB() / 1024,
    baselineMiB,
    heapTotalMiB: peak.heapTotal / MiB,
    arrayBuffersMiB: peak.arrayBuffers / MiB,
    seconds,
  }),
);
