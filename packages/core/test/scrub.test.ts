import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWrappedSecret, scrub, scrubString } from '../src/index.js';

const reason = (message: string, secrets: readonly string[] = []) =>
  scrubString(message, { mode: 'reason', secrets });

/** A value as @org/secrets wraps it: the secret is inside, `toString()` says `[secret]`. */
class Wrapped {
  constructor(readonly value: string) {}
  toString() {
    return '[secret]';
  }
}

// Secrets drawn from every printable ASCII character: quotes, spaces, '/', '#', '@', '\'…
const printable = fc
  .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 8, maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));
const b64url = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  minLength: 10,
  maxLength: 40,
});
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);
const word = fc.stringMatching(/^[a-z]{1,12}$/);
const forms = (s: string) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)];

describe('scrubString, event mode (the default)', () => {
  it('removes the usual suspects', () => {
    expect(scrubString('mail jane.doe@example.com now')).toBe('mail [email] now');
    expect(scrubString('tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc_def')).toBe('tok [jwt]');
    expect(scrubString('redis://:hunter2@cache:6379/0')).toBe('redis://[redacted]@cache:6379/0');
    expect(scrubString('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: [redacted]');
    expect(scrubString('api_key="abc def"')).toBe('api_key= [redacted]');
    expect(scrubString('GET /x?token=abc&page=2')).toBe('GET /x?token=[redacted]&page=2');
    expect(scrubString('calling with bearer abc def')).toBe('calling with bearer [redacted]');
    // By structure, as a reason is: a '#' in a password, userinfo without a scheme, AWS keys.
    expect(scrubString('redis://default:a#b@cache:6379/0 refused')).toBe(
      'redis://[redacted]@cache:6379/0 refused',
    );
    expect(scrubString('login app:hun ter2@db.internal failed')).toBe(
      'login app:[redacted]@db.internal failed',
    );
    expect(scrubString('https://user@example.com/x@y')).toBe('https://[redacted]@example.com/x@y');
    expect(scrubString('key AKIAIOSFODNN7EXAMPLE denied')).toBe('key [redacted] denied');
  });

  it('keeps messages without secrets as they are', () => {
    expect(scrubString('card declined for order 1234 (retry 2 of 3)')).toBe(
      'card declined for order 1234 (retry 2 of 3)',
    );
  });

  it('masks literal secrets, cuts long strings and never throws', () => {
    expect(scrubString('the key is s3cr3t-value here', { secrets: ['s3cr3t-value'] })).toBe(
      'the key is [redacted] here',
    );
    expect(scrubString('a'.repeat(10_000))).toHaveLength(8193);
    expect(scrubString(undefined as never)).toBe('');
    expect(scrubString(42 as never, { mode: 'reason' })).toBe('');
  });
});

describe('scrubString, reason mode', () => {
  it('keeps what helps: scheme, host and port, error codes, plain words', () => {
    expect(reason('connect ECONNREFUSED 127.0.0.1:5432')).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(reason('postgres://app:pw@db:5432/orders?ssl=1 timed out')).toBe(
      'postgres://***@db:5432 timed out',
    );
    expect(reason('GET https://api.example.com/v1/x?sig=abc failed')).toBe(
      'GET https://api.example.com failed',
    );
    expect(reason('token expired')).toBe('token expired');
    expect(reason('mail jane.doe@example.com now')).toBe('mail *** now');
    expect(reason('at f (/n/.pnpm/vitest@4.0.0/x.js:1:2)')).toBe(
      'at f (/n/.pnpm/vitest@4.0.0/x.js:1:2)',
    );
  });

  it('scrubs JWTs, AWS keys, long opaque strings and literal secrets; cuts to 200', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU';
    expect(reason(`bad ${jwt}`)).toBe('bad ***');
    expect(reason('key AKIAIOSFODNN7EXAMPLE denied')).toBe('key *** denied');
    expect(reason(`hash ${'a1'.repeat(20)}`)).toBe('hash ***');
    expect(reason('word '.repeat(100))).toHaveLength(200);
    expect(reason('pin hunter22 refused', ['hunter22'])).toBe('pin *** refused');
  });

  it('cases found by hand: quotes, spaces, slashes and hashes in passwords', () => {
    expect(reason('postgres://app:pa"ss@db:5432/x failed')).toBe('postgres://***@db:5432 failed');
    expect(reason('postgres://app:pa ss word@db:5432/x failed')).toBe(
      'postgres://***@db:5432 failed',
    );
    expect(reason('redis://u:a/b#c@cache:6379 refused')).toBe('redis://***@cache:6379 refused');
    expect(reason('login app:hunter2@db.internal failed')).toBe('login app:***@db.internal failed');
    expect(reason('password: "a \\" b" for app')).toBe('password: "***" for app');
  });
});

describe('scrub (deep)', () => {
  it('drops sensitive keys and wrapped secrets, cuts cycles, depth and size', () => {
    expect(scrub({ Cookie: 'a=b', n: 1, s: new Wrapped('x'), ok: true })).toEqual({
      Cookie: '[redacted]',
      n: 1,
      s: '[secret]',
      ok: true,
    });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(scrub(loop)).toEqual({ self: '[circular]' });
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(JSON.stringify(scrub(deep))).toContain('[depth]');
    expect(scrub(Array.from({ length: 500 }, (_, i) => i))).toHaveLength(100);
    expect(
      Object.keys(scrub(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i])))),
    ).toHaveLength(100);
    expect(isWrappedSecret(new Wrapped('x'))).toBe(true);
    expect(isWrappedSecret([1])).toBe(false);
  });

  it('never throws', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no');
        },
      },
    );
    expect(scrub(hostile)).toBe('[redacted]');
    const throwing = {
      toString() {
        throw new Error('no');
      },
    };
    expect(scrub(throwing)).toBe('[secret]');
    expect(scrub({ b: 1n, f: () => 1, d: new Date(0) })).toEqual({
      b: '1',
      f: '[function]',
      d: '1970-01-01T00:00:00.000Z',
    });
  });
});

/** Every place a secret shows up in an app's errors and alerts, with the secret `s`. */
function leaks(s: string) {
  const enc = encodeURIComponent(s);
  return {
    error: new Error(
      [
        `upstream said no; Authorization: Bearer ${s}`,
        `Cookie: session=${s}`,
        `retrying with password=${s}`,
        `db postgres://app:${enc}@db.internal:5432/app failed`,
        `callback https://api.example.com/cb?access_token=${enc}&page=2`,
        `calling with bearer ${s}`,
      ].join('\n'),
    ),
    data: {
      headers: { authorization: s, cookie: s, 'x-api-key': s },
      password: s,
      key: new Wrapped(s),
      nested: { deep: [{ secret: s }], note: `client_secret: ${s}` },
    },
  };
}

describe('no secret survives the deep scrubber (property, from @org/alerts)', () => {
  const skeleton = JSON.stringify(scrub(leaks('Q')));

  it('over errors, data, JWTs and emails', () => {
    fc.assert(
      fc.property(printable, b64url, b64url, fc.emailAddress(), (s, h, p, email) => {
        const jwt = `eyJ${h}.${p}.${h}`;
        const { error, data } = leaks(s);
        const out = JSON.stringify(
          scrub({
            error,
            data,
            tags: { who: email },
            message: `token ${jwt} from ${email}`,
            breadcrumb: `login ${email} with password=${s}`,
          }),
        );
        // A "secret" that the output holds anyway (a run of spaces in a frame …) proves nothing.
        fc.pre(!skeleton.includes(s));
        for (const f of [...forms(s), jwt, email]) expect(out).not.toContain(f);
      }),
      { numRuns: 300 },
    );
  });
});

describe('no secret survives a reason (properties, from @org/health)', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9!#$%^*_+~.-]{8,40}$/);
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

  it('never lets a secret through any known carrier, in either mode', () => {
    fc.assert(
      fc.property(secret, word, fc.nat(templates.length - 1), (s, w, i) => {
        const message = templates[i]!(s, w);
        expect(reason(message)).not.toContain(s);
        expect(scrubString(message)).not.toContain(s);
      }),
      { numRuns: 500 },
    );
  });

  it('masks the userinfo of any URL-like token, whatever the password holds', () => {
    const urls = [
      (u: string, p: string) => `connect failed: postgres://${u}:${p}@db.internal:5432/app`,
      (u: string, p: string) => `redis://${u}:${p}@cache-1:6379/0 refused (ECONNREFUSED)`,
      (u: string, p: string) => `mongodb+srv://${u}:${p}@cluster0.example.net/?retryWrites=true`,
      (u: string, p: string) => `amqp://${u}:${p}@[::1]:5672 closed`,
      (u: string, p: string) => `"url": "https://${u}:${p}@api.example.com/x" failed`,
    ];
    fc.assert(
      fc.property(user, printable, fc.nat(urls.length - 1), (u, p, i) => {
        const message = urls[i]!(u, p);
        fc.pre(!message.replace(p, '').includes(p));
        expect(reason(message)).not.toContain(p);
        const enc = encodeURIComponent(p);
        expect(reason(message.replace(p, enc))).not.toContain(enc);
      }),
      { numRuns: 2000 },
    );
  });

  it('masks user:password@host without a scheme', () => {
    fc.assert(
      fc.property(user, printable, (u, p) => {
        // A password starting with a space reads as `label: text`; one holding "://" as a URL.
        fc.pre(!/^\s/.test(p) && !p.startsWith('//'));
        const message = `could not log in as ${u}:${p}@db.internal:5432`;
        fc.pre(!message.replace(p, '').includes(p));
        expect(reason(message)).not.toContain(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('masks key=value and key: value pairs, quoted or not', () => {
    const pairs = [
      (p: string) => `login failed password=${JSON.stringify(p)} host=db`,
      (p: string) => `{"password":${JSON.stringify(p)},"user":"app"}`,
      (p: string) => `db: PASSWORD: ${JSON.stringify(p)}`,
      (p: string) => `token: ${p}`,
      (p: string) => `secret=${p} user=app`,
      (p: string) => `auth failed (api_key=${p})`,
    ];
    fc.assert(
      fc.property(printable, fc.nat(pairs.length - 1), (p, i) => {
        // Unquoted, a value ends where the next `key=` / `key: ` pair starts.
        if (i >= 3) fc.pre(!/(?:\s|[,;&])\s*["']?[\w.-]+["']?\s*[=:]/.test(p));
        if (i === 5) fc.pre(!p.includes(')'));
        const message = pairs[i]!(p);
        const shown = i < 3 ? JSON.stringify(p).slice(1, -1) : p;
        fc.pre(!message.replace(shown, '').includes(shown));
        expect(reason(message)).not.toContain(shown);
        // The event mode cuts the value to the end of the line: it holds nothing either.
        expect(scrubString(message)).not.toContain(shown);
      }),
      { numRuns: 2000 },
    );
  });
});
