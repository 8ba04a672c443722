// Streams SIZE bytes of generated data through one put and prints peak RSS (MiB) as JSON.
// Plain JavaScript on the built package (`pnpm build` first), run in a fresh process by
// storage.bench.ts so that nothing else shares its heap.
import { Readable } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createStorage } from '@org/storage';

const [endpoint, bucket, mode, sizeArg] = process.argv.slice(2);
const size = Number(sizeArg);
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const chunk = Buffer.alloc(1024 * 1024, 0x5a);
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
// Load the SDK in both modes before measuring the baseline.
await import('@org/storage/s3');
const baselineMiB = process.memoryUsage().rss / 1024 / 1024;
const started = performance.now();
if (mode === 'storage') {
  const s3 = { bucket, endpoint, forcePathStyle: true, credentials };
  if (process.env.BENCH_PART_MIB) s3.partSize = Number(process.env.BENCH_PART_MIB) * 1024 * 1024;
  if (process.env.BENCH_QUEUE) s3.queueSize = Number(process.env.BENCH_QUEUE);
  if (process.env.BENCH_R2) s3.profile = 'r2';
  const storage = createStorage({ s3 });
  await storage.put('rss/storage.bin', body());
  await storage.close();
} else {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  await new Upload({
    client,
    params: { Bucket: bucket, Key: 'rss/sdk.bin', Body: body() },
    partSize: 8 * 1024 * 1024,
    queueSize: 4,
  }).done();
  client.destroy();
}
const seconds = (performance.now() - started) / 1000;
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ mode, maxRssMiB, baselineMiB, seconds }));
