/**
 * sign and verify with a ring of 5 keys, per algorithm, against bare jose (`SignJWT` /
 * `jwtVerify` with the one right key; HS256 with a raw Uint8Array secret, as most apps do) and
 * against the node:crypto floor (`crypto.sign`/`crypto.verify`/`createHmac` on the same bytes).
 * Run: pnpm --filter @org/key-rotation run bench
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { Bench } from 'tinybench';
import { type Algorithm, createKeyRing } from '../src/index.js';

type JoseKey = Awaited<ReturnType<typeof importJWK>>;
const time = Number(process.env.BENCH_TIME ?? 500);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const rows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function benchAlg(alg: Algorithm) {
  // Private material is not reachable from the ring; a file store of our own gives it to us.
  const states: string[] = [];
  const ring = await createKeyRing({
    algorithm: alg,
    encryptionKey: Buffer.alloc(32, 7),
    store: {
      async load() {
        return states.length ? JSON.parse(states.at(-1)!) : undefined;
      },
      async compareAndSet(expected, next) {
        const cur = states.length ? JSON.parse(states.at(-1)!).version : 0;
        if (cur !== expected) return false;
        states.push(JSON.stringify(next));
        return true;
      },
    },
    refreshInterval: 0,
  });
  for (let i = 0; i < 4; i++) await ring.rotate();
  if (ring.keys().filter((k) => k.status !== 'retired').length !== 5) throw new Error('ring != 5');
  const token = await ring.sign({ sub: 'user-1', scope: 'read' }, { expiresIn: '15m' });
  const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
  const { unseal, resolveSealKeys } = await import('../src/at-rest.js');
  const state = JSON.parse(states.at(-1)!);
  const record = state.keys.find((k: { kid: string }) => k.kid === kid);
  const jwk = JSON.parse(unseal(resolveSealKeys(Buffer.alloc(32, 7))!, kid, record.material));

  const dot = token.lastIndexOf('.');
  const input = token.slice(0, dot);
  const sigText = token.slice(dot + 1);
  const sig = Buffer.from(sigText, 'base64url');
  const data = Buffer.from(input);
  let joseSignKey: JoseKey;
  let joseVerifyKey: JoseKey;
  let floorSign: () => unknown;
  let floorVerify: () => unknown;
  if (alg === 'HS256') {
    const secret = Buffer.from(jwk.k, 'base64url');
    joseSignKey = joseVerifyKey = new Uint8Array(secret);
    floorSign = () => createHmac('sha256', secret).update(input).digest('base64url');
    floorVerify = () => {
      const mac = createHmac('sha256', secret).update(input).digest();
      return timingSafeEqual(mac, sig);
    };
  } else {
    const priv: KeyObject = createPrivateKey({ key: jwk, format: 'jwk' });
    const pub = createPublicKey(priv);
    joseSignKey = (await importJWK(jwk, alg)) as JoseKey;
    joseVerifyKey = (await importJWK(pub.export({ format: 'jwk' }), alg)) as JoseKey;
    const hash = alg === 'EdDSA' ? null : 'sha256';
    const dsa = alg === 'ES256' ? ({ dsaEncoding: 'ieee-p1363' } as const) : {};
    floorSign = () => cryptoSign(hash, data, { key: priv, ...dsa });
    floorVerify = () => cryptoVerify(hash, data, { key: pub, ...dsa }, sig);
  }
  if (!(await floorVerify())) throw new Error('floor verify failed');
  await jwtVerify(token, joseVerifyKey, { algorithms: [alg] });

  const claims = { scope: 'read' };
  const tasks: [string, () => unknown][] = [
    ['ring sign', () => ring.sign(claims, { subject: 'user-1', expiresIn: '15m' })],
    [
      'jose sign',
      () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg, kid, typ: 'JWT' })
          .setSubject('user-1')
          .setIssuedAt()
          .setExpirationTime('15m')
          .sign(joseSignKey),
    ],
    ['floor sign', floorSign],
    ['ring verify', () => ring.verify(token)],
    ['jose verify', () => jwtVerify(token, joseVerifyKey, { algorithms: [alg] })],
    ['floor verify', floorVerify],
  ];
  // Best of `rounds` runs per task, in a different order each round: the machine is shared,
  // and the best run is the one least disturbed by other work.
  const best = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, warmupTime: 100 });
    const order = round % 2 === 0 ? tasks : [...tasks].reverse();
    for (const [name, fn] of order) bench.add(name, fn);
    await bench.run();
    for (const t of bench.tasks) {
      const hz = t.result!.throughput.mean;
      best.set(t.name, Math.max(best.get(t.name) ?? 0, hz));
    }
  }
  const hz = (name: string) => best.get(name)!;
  for (const op of ['sign', 'verify']) {
    const r = hz(`ring ${op}`);
    const j = hz(`jose ${op}`);
    const f = hz(`floor ${op}`);
    rows.push([
      alg,
      op,
      fmt(r),
      fmt(j),
      fmt(f),
      `${(r / j).toFixed(2)}x`,
      `${(f / r).toFixed(2)}x`,
    ]);
  }
  await ring.close();
}

const only = process.env.BENCH_ALGS?.split(',');
for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256'] as const) {
  if (!only || only.includes(alg)) await benchAlg(alg);
}

const head = [
  'alg',
  'op',
  'ring ops/s',
  'jose ops/s',
  'node:crypto ops/s',
  'ring / jose',
  'floor / ring',
];
const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
console.log(
  `\nNode ${process.version}, ring of 5 keys, best of ${rounds} rounds of ${time} ms per task\n`,
);
console.log(table);
