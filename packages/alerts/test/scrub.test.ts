import { createAlerts, scrub, scrubString } from '@org/alerts';
import { type SentrySink, startSentrySink } from '@org/test-utils';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A value as @org/secrets wraps it: the secret is inside, `toString()` says `[secret]`. */
class Wrapped {
  constructor(readonly value: string) {}
  toString() {
    return '[secret]';
  }
}

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 8,
  maxLength: 40,
});
const b64url = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  minLength: 10,
  maxLength: 40,
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

const forms = (s: string) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)];

describe('scrub', () => {
  it('removes the usual suspects', () => {
    expect(scrubString('mail jane.doe@example.com now')).toBe('mail [email] now');
    expect(scrubString('tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc_def')).toBe('tok [jwt]');
    expect(scrubString('redis://:hunter2@cache:6379/0')).toBe('redis://[redacted]@cache:6379/0');
    expect(scrubString('Authorization: Basic dXNlcjpwYXNz')).toBe('Authorization: [redacted]');
    expect(scrubString('api_key="abc def"')).toBe('api_key= [redacted]');
    expect(scrubString('GET /x?token=abc&page=2')).toBe('GET /x?token=[redacted]&page=2');
    expect(scrub({ Cookie: 'a=b', n: 1, s: new Wrapped('x') })).toEqual({
      Cookie: '[redacted]',
      n: 1,
      s: '[secret]',
    });
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(scrub(loop)).toEqual({ self: '[circular]' });
  });

  it('keeps messages without secrets as they are', () => {
    expect(scrubString('card declined for order 1234 (retry 2 of 3)')).toBe(
      'card declined for order 1234 (retry 2 of 3)',
    );
  });
});

describe('no secret reaches the sink or stderr (property)', () => {
  let sink: SentrySink;
  let skeleton = '';
  beforeAll(async () => {
    sink = await startSentrySink();
    const lines: string[] = [];
    const alerts = createAlerts({ log: (l) => lines.push(l), throttle: false });
    const { error, data } = leaks('Q');
    alerts.captureException(error, { data });
    await alerts.flush('2s');
    skeleton = lines.join('\n');
  });
  afterAll(() => sink.close());

  it('over stderr JSON lines', async () => {
    await fc.assert(
      fc.asyncProperty(printable, b64url, b64url, fc.emailAddress(), async (s, h, p, email) => {
        const jwt = `eyJ${h}.${p}.${h}`;
        const lines: string[] = [];
        const alerts = createAlerts({ log: (l) => lines.push(l), throttle: false });
        const { error, data } = leaks(s);
        alerts.captureException(error, { data, tags: { who: email } });
        alerts.alert('security_event', { message: `token ${jwt} from ${email}`, data });
        alerts.addBreadcrumb({ message: `login ${email} with password=${s}` });
        await alerts.flush('2s');
        await alerts.close();
        const out = lines.join('\n');
        // A "secret" that the output holds anyway (a run of spaces in a frame …) proves nothing.
        fc.pre(!skeleton.includes(s));
        expect(lines).toHaveLength(2);
        for (const f of [...forms(s), jwt, email]) expect(out).not.toContain(f);
      }),
      { numRuns: 200 },
    );
  });

  it('over Sentry envelopes', async () => {
    await fc.assert(
      fc.asyncProperty(printable, fc.emailAddress(), async (s, email) => {
        sink.envelopes.length = 0;
        const alerts = createAlerts({ dsn: sink.dsn, throttle: false });
        const { error, data } = leaks(s);
        alerts.addBreadcrumb({ message: `Cookie: ${s}`, data: { email } });
        alerts.captureException(error, { data });
        alerts.alert('payment_failure', { message: `charge for ${email}`, error, data });
        await alerts.flush('2s');
        await alerts.close();
        const out = JSON.stringify(sink.envelopes);
        fc.pre(!skeleton.includes(s));
        expect(sink.envelopes).toHaveLength(2);
        for (const f of [...forms(s), email]) expect(out).not.toContain(f);
      }),
      { numRuns: 60 },
    );
  });
});
