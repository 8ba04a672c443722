// Times the `fernet` npm package (crypto-js) on SIZE bytes of ASCII text in its own process,
// so that a failure or a runaway heap at 256 MiB cannot take the bench down.
// usage: node fernet-npm-child.cjs SIZE ITERATIONS KEY  → JSON of wall and CPU seconds
const fernet = require('fernet');
const [size, iterations, key] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const secret = new fernet.Secret(key);
const message = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(size / 36)).slice(0, size);
const out = { encrypt: [], decrypt: [], encryptCpu: [], decryptCpu: [] };
const cpu = (c) => (c.user + c.system) / 1e6;
for (let i = 0; i < iterations; i++) {
  let t = performance.now();
  let c = process.cpuUsage();
  const token = new fernet.Token({ secret, ttl: 0 }).encode(message);
  out.encrypt.push((performance.now() - t) / 1000);
  out.encryptCpu.push(cpu(process.cpuUsage(c)));
  t = performance.now();
  c = process.cpuUsage();
  const back = new fernet.Token({ secret, token, ttl: 0 }).decode();
  out.decrypt.push((performance.now() - t) / 1000);
  out.decryptCpu.push(cpu(process.cpuUsage(c)));
  if (back.length !== message.length) throw new Error('fernet npm round trip failed');
}
process.stdout.write(JSON.stringify(out));
