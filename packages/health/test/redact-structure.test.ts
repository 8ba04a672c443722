import { redact, safeReason } from '@org/health';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// Passwords drawn from every printable ASCII character: quotes, spaces, '/', '#', '@', '\'…
const printable = fc
  .array(fc.integer({ min: 0x20, max: 0x7e }), { minLength: 8, maxLength: 32 })
  .map((codes) => String.fromCharCode(...codes));
const user = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);

/** The password must not appear in the reason; the rest of the message must not hold it. */
function leaks(message: string, password: string): boolean {
  return safeReason(new Error(message)).includes(password);
}

describe('redact by structure', () => {
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
        expect(leaks(message, p)).toBe(false);
        expect(leaks(message.replace(p, encodeURIComponent(p)), encodeURIComponent(p))).toBe(false);
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
        expect(leaks(message, p)).toBe(false);
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
        // Unquoted, a value ends where the next `key=` / `key:` pair starts.
        if (i >= 3) fc.pre(!/(?:\s|[,;&])\s*["']?[\w.-]+["']?\s*[=:]/.test(p));
        if (i === 5) fc.pre(!p.includes(')'));
        const message = pairs[i]!(p);
        const shown = i < 3 ? JSON.stringify(p).slice(1, -1) : p;
        fc.pre(!message.replace(shown, '').includes(shown));
        expect(leaks(message, shown)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('cases found by hand: quotes, spaces, slashes and hashes in passwords', () => {
    expect(redact('postgres://app:pa"ss@db:5432/x failed')).toBe('postgres://***@db:5432 failed');
    expect(redact('postgres://app:pa ss word@db:5432/x failed')).toBe(
      'postgres://***@db:5432 failed',
    );
    expect(redact('redis://u:a/b#c@cache:6379 refused')).toBe('redis://***@cache:6379 refused');
    expect(redact('login app:hunter2@db.internal failed')).toBe('login app:***@db.internal failed');
    expect(redact('connect ECONNREFUSED 127.0.0.1:5432')).toBe(
      'connect ECONNREFUSED 127.0.0.1:5432',
    );
    expect(redact('password: "a \\" b" for app')).toBe('password: "***" for app');
  });
});
