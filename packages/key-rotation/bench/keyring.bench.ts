/**
 * sign and verify with a ring of 5 keys, per algorithm, against bare jose (`SignJWT` /
 * `jwtVerify` with the one right key; HS256 with a raw Uint8Array secret, as most apps do) and
 * against the node:crypto floor (`crypto.sign`/`crypto.verify`/`createHmac` on the same bytes).
 * Each ratio is the median, with its range, of paired alternating rounds (`pairedRatio`): ring
 * and the other side by side in one tinybench run, the order flipped each round; above 1× the
 * ring is faster.
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
import { loadavg } from 'node:os';
import { type PairedResult, pairedRatio } from '@org/test-utils/bench';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { type Algorithm, createKeyRing } from '../src/index.js';

type JoseKey = Awaited<ReturnType<typeof importJWK>>;
const time = Number(process.env.BENCH_TIME ?? 200);
const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const rows: string[][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** `1.70× (1.62–1.75×)`: the median of the rounds' ratios, with their range. */
const ratio = (r: PairedResult) =>
  `${r.median.toFixed(2)}× (${r.min.toFixed(2)}–${r.max.toFixed(2)}×)`;

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
  // Async, so that tinybench measures them (it calls a plain function once when it is added).
  const ops = {
    sign: {
      ring: async () => ring.sign(claims, { subject: 'user-1', expiresIn: '15m' }),
      jose: async () =>
        new SignJWT(claims)
          .setProtectedHeader({ alg, kid, typ: 'JWT' })
          .setSubject('user-1')
          .setIssuedAt()
          .setExpirationTime('15m')
          .sign(joseSignKey),
      floor: async () => floorSign(),
    },
    verify: {
      ring: async () => ring.verify(token),
      jose: async () => jwtVerify(token, joseVerifyKey, { algorithms: [alg] }),
      floor: async () => floorVerify(),
    },
  };
  for (const op of ['sign', 'verify'] as const) {
    const { ring: ours, jose, floor } = ops[op];
    // Each ratio from paired alternating rounds: ours and the other side by side in one run.
    const vsJose = await pairedRatio(ours, jose, { rounds, time, warmupTime: 100 });
    const vsFloor = await pairedRatio(ours, floor, { rounds, time, warmupTime: 100 });
    rows.push([
      alg,
      op,
      ratio(vsJose),
      ratio(vsFloor),
      `${fmt(vsJose.oursHz)} · ${fmt(vsJose.anchorHz)} · ${fmt(vsFloor.anchorHz)}`,
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
  'ring ÷ jose (median of rounds, range)',
  'ring ÷ node:crypto floor',
  'ops/s ring · jose · floor (context)',
];
const table = [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
console.log(
  `\nNode ${process.version}, ring of 5 keys, ${rounds} paired rounds of ${time} ms per task (+100 ms warm-up); load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}\n`,
);
console.log(table);
