import { inspect } from 'node:util';
import { isAuthError, isSecretValue, SecretValue } from '@org/secrets';
import { describe, expect, it } from 'vitest';

describe('SecretValue', () => {
  it('prints [secret] every way, reveals on demand', () => {
    const v = new SecretValue('hunter2', 'v-1');
    for (const shown of [
      String(v),
      `${v}`,
      `${[v]}`,
      JSON.stringify(v),
      JSON.stringify({ nested: { v } }),
      inspect(v),
      inspect({ v }, { depth: 5 }),
      inspect(v, { customInspect: false, showHidden: true }),
      Object.keys(v).join(),
      JSON.stringify(structuredClone(v)),
    ]) {
      expect(shown).not.toContain('hunter2');
    }
    expect(v.reveal()).toBe('hunter2');
    expect(v.versionId).toBe('v-1');
    expect(isSecretValue(v)).toBe(true);
    expect(isSecretValue({ reveal: () => 'x' })).toBe(false);
    // A value of another copy of the package (the ./aws bundle, a second version) carries the
    // same registered brand.
    const foreign = Object.defineProperty({}, Symbol.for('@org/secrets.value'), { value: true });
    expect(isSecretValue(foreign)).toBe(true);
  });

  it('holds bytes, copies them in and out, compares without revealing', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const v = new SecretValue(bytes);
    bytes[0] = 9;
    expect([...v.revealBytes()]).toEqual([1, 2, 3]);
    v.revealBytes()[0] = 9;
    expect([...v.revealBytes()]).toEqual([1, 2, 3]);
    expect(v.binary).toBe(true);
    expect(v.equals(new SecretValue(new Uint8Array([1, 2, 3])))).toBe(true);
    expect(new SecretValue('abc').equals(new SecretValue(new TextEncoder().encode('abc')))).toBe(
      true,
    );
    expect(new SecretValue('abc').equals(new SecretValue('abd'))).toBe(false);
    expect(new SecretValue('abc').equals(new SecretValue('ab'))).toBe(false);
  });
});

describe('isAuthError', () => {
  it('recognises the usual shapes of a refused credential', () => {
    const yes = [
      { status: 401 },
      { statusCode: 403 },
      { response: { status: 401 } },
      { $metadata: { httpStatusCode: 403 } },
      { code: '28P01' },
      { code: 'ER_ACCESS_DENIED_ERROR' },
      { code: 'EAUTH' },
      { name: 'UnrecognizedClientException' },
      { cause: { cause: { status: 401 } } },
    ];
    for (const e of yes)
      expect(isAuthError(Object.assign(new Error('x'), e)), JSON.stringify(e)).toBe(true);
    const no = [
      new Error('ECONNRESET'),
      { status: 500 },
      { code: 'ETIMEDOUT' },
      null,
      'denied',
      401,
    ];
    for (const e of no) expect(isAuthError(e), String(e)).toBe(false);
  });
});
