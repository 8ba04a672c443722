// Times the `fernet` npm package (crypto-js) on SIZE bytes of ASCII text in its own process,
// so that a failure or a runaway heap at 256 MiB cannot take the bench down.
// usage: node fernet-npm-child.cjs SIZE ITERATIONS KEY  → JSON {"encrypt": [s...], "decrypt": [s...]}
const fernet = require('fernet');
const [size, iterations, key] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const secret = new fernet.Secret(key);
const message = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(size / 36)).slice(0, size);
const out = { encrypt: [], decrypt: [] };
for (let i = 0; i < iterations; i++) {
  let t = performance.now();
  const token = new fernet.Token({ secret, ttl: 0 }).encode(message);
  out.encrypt.push((performance.now() - t) / 1000);
  t = performance.now();
  const back = new fernet.Token({ secret, token, ttl: 0 }).decode();
  out.decrypt.push((performance.now() - t) / 1000);
  if (back.length !== message.length) throw new Error('fernet npm round trip failed');
}
process.stdout.write(JSON.stringify(out));
