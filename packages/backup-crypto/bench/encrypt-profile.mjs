// Encrypts 1 MiB with the BUILT package in a loop for a few seconds, so that a sampling profiler
// can say where encryption's CPU time goes:
//   perf record -g -o /tmp/enc.data node bench/encrypt-profile.mjs
//   perf report -i /tmp/enc.data --no-children --sort sym
// usage: node encrypt-profile.mjs [SECONDS=5] → MB/s per CPU second on stdout
import { Fernet, generateKey } from '../dist/index.js';

const seconds = Number(process.argv[2] ?? 5);
const data = Buffer.alloc(1024 * 1024, 0x61);
const f = new Fernet(generateKey());
for (let i = 0; i < 20; i++) f.encrypt(data);
const start = process.cpuUsage();
const until = performance.now() + seconds * 1000;
let n = 0;
while (performance.now() < until) {
  f.encrypt(data);
  n++;
}
const used = process.cpuUsage(start);
const cpu = (used.user + used.system) / 1e6;
console.log(`${((n * data.length) / 1e6 / cpu).toFixed(0)} MB/s per CPU second (${n} × 1 MiB)`);
