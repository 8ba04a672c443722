import { readFileSync } from 'node:fs';
import { Fernet, FernetErrorCode, INVALID_TOKEN_MESSAGE, isFernetError } from '@org/backup-crypto';
import { describe, expect, it } from 'vitest';

// The Fernet spec's acceptance vectors (github.com/fernet/spec), see fixtures/fernet-spec/README.md.
interface Vector {
  token: string;
  now: string;
  secret: string;
  src?: string;
  iv?: number[];
  ttl_sec?: number;
  desc?: string;
}
const load = (name: string): Vector[] =>
  JSON.parse(readFileSync(new URL(`./fixtures/fernet-spec/${name}.json`, import.meta.url), 'utf8'));
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
/** A Fernet of the vector's secret whose clock stands at the vector's `now`. */
const at = (v: Vector) => new Fernet(v.secret, { clock: { now: () => Date.parse(v.now) } });
const ttl = (v: Vector) => (v.ttl_sec === undefined ? undefined : (`${v.ttl_sec}s` as const));

describe('fernet/spec generate.json', () => {
  const vectors = load('generate');
  it('has vectors', () => expect(vectors.length).toBeGreaterThan(0));
  for (const v of vectors) {
    it(`reproduces ${v.token.slice(0, 24)}…`, () => {
      const token = new Fernet(v.secret).encrypt(v.src!, {
        timestamp: seconds(v.now),
        iv: Uint8Array.from(v.iv!),
      });
      expect(token).toBe(v.token);
    });
  }
});

describe('fernet/spec verify.json', () => {
  const vectors = load('verify');
  it('has vectors', () => expect(vectors.length).toBeGreaterThan(0));
  for (const v of vectors) {
    it(`decrypts ${v.token.slice(0, 24)}…`, () => {
      const plain = at(v).decrypt(v.token, { ttl: ttl(v) });
      expect(plain.toString('utf8')).toBe(v.src);
    });
  }
});

describe('fernet/spec invalid.json', () => {
  const vectors = load('invalid');
  it('has all 8 vectors', () => expect(vectors).toHaveLength(8));
  for (const v of vectors) {
    it(`refuses: ${v.desc}`, () => {
      let caught: unknown;
      try {
        at(v).decrypt(v.token, { ttl: ttl(v) });
      } catch (err) {
        caught = err;
      }
      expect(isFernetError(caught)).toBe(true);
      const expected =
        v.desc === 'expired TTL' ? FernetErrorCode.TokenExpired : FernetErrorCode.InvalidToken;
      expect((caught as { code: string }).code).toBe(expected);
      if (expected === FernetErrorCode.InvalidToken) {
        expect((caught as Error).message).toBe(INVALID_TOKEN_MESSAGE);
      }
    });
  }
});
