import { redact, safeReason } from '@org/health';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Secrets as they come: letters, digits and the punctuation passwords and tokens use.
const secret = fc.stringMatching(/^[A-Za-z0-9!#$%^*_+~.-]{8,40}$/);
const word = fc.stringMatching(/^[a-z]{1,12}$/);

const templates: ((s: string, w: string) => string)[] = [
  (s, w) => `connect failed: postgres://${w}:${s}@db.internal:5432/${w}`,
  (s, w) => `redis://default:${s}@cache-${w}:6379/0 refused`,
  (s) => `mongodb+srv://u:${s}@cluster0.example.net/?retryWrites=true`,
  (s, w) => `${w} password=${s} host=db`,
  (s, w) => `${w}: PASSWORD: "${s}"`,
  (s) => `GET https://api.example.com/v1/items?api_key=${s}&x=1 -> 401`,
  (s) => `{"token":"${s}","user":"x"}`,
  (s) => `Authorization: Bearer ${s}`,
  (s, w) => `auth failed (secret='${s}') for ${w}`,
  (s) => `aws_secret_access_key=${s}`,
];

describe('redact', () => {
  it('never lets a secret through any known carrier', () => {
    fc.assert(
      fc.property(secret, word, fc.nat(templates.length - 1), (s, w, i) => {
        const out = safeReason(new Error(templates[i]!(s, w)));
        expect(out).not.toContain(s);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps what helps: scheme, host and port, error codes, plain words', () => {
    expect(redact('connect ECONNREFUSED 127.0.0.1:5432')).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(redact('postgres://app:pw@db:5432/orders?ssl=1 timed out')).toBe(
      'postgres://***@db:5432 timed out',
    );
    expect(redact('GET https://api.example.com/v1/x?sig=abc failed')).toBe(
      'GET https://api.example.com failed',
    );
    expect(redact('token expired')).toBe('token expired');
  });

  it('scrubs JWTs, AWS keys and long opaque strings; cuts to 200 characters', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU';
    expect(redact(`bad ${jwt}`)).toBe('bad ***');
    expect(redact('key AKIAIOSFODNN7EXAMPLE denied')).toBe('key *** denied');
    expect(redact(`hash ${'a1'.repeat(20)}`)).toBe('hash ***');
    expect(redact('word '.repeat(100))).toHaveLength(200);
  });

  it('refuses what is not a message with ERR_HEALTH_INVALID_OPTION', () => {
    expect(() => redact(undefined as never)).toThrow(
      expect.objectContaining({ code: 'ERR_HEALTH_INVALID_OPTION' }),
    );
    expect(() => redact('x', 'secret' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_HEALTH_INVALID_OPTION' }),
    );
  });

  it('reduces errors without a message to their code, and non-errors to a word', () => {
    const agg = new AggregateError([Object.assign(new Error(''), { code: 'ECONNREFUSED' })], '');
    expect(safeReason(agg)).toBe('ECONNREFUSED');
    expect(safeReason({ password: 'x' })).toBe('failed');
    expect(safeReason(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(
      'ECONNREFUSED: refused',
    );
  });
});
