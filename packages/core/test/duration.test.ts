import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Duration,
  formatDuration,
  isOrgError,
  OrgError,
  optionChecks,
  parseDuration,
  toMs,
} from '../src/index.js';

describe('Duration', () => {
  it('reads numbers as milliseconds and strings by their unit', () => {
    const cases: [Duration, number][] = [
      [0, 0],
      [250, 250],
      [1.5, 1.5],
      ['250ms', 250],
      ['30s', 30_000],
      ['1.5s', 1_500],
      ['15m', 900_000],
      ['12h', 43_200_000],
      ['7d', 604_800_000],
      ['2w', 1_209_600_000],
      ['7 days', 604_800_000],
      ['1 hour', 3_600_000],
      ['10 sec', 10_000],
      ['5 min', 300_000],
      ['.5s', 500],
    ];
    for (const [input, ms] of cases) expect(parseDuration(input), String(input)).toBe(ms);
  });

  it('refuses what a reader could take two ways, and everything else', () => {
    const bad: unknown[] = [
      '15',
      '',
      ' ',
      'abc',
      '-5s',
      '5x',
      '1e3ms',
      '5 m s',
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      null,
      {},
      [],
      true,
      '9'.repeat(400) + 'd',
      `1${'0'.repeat(70)}s`,
    ];
    for (const v of bad) expect(toMs(v), String(v)).toBeUndefined();
    try {
      parseDuration('15' as Duration, 'ttl');
      expect.unreachable();
    } catch (err) {
      expect(isOrgError(err, 'ERR_CORE_INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toContain('ttl must be a duration');
      expect((err as Error).message).toContain("'15m'");
    }
  });

  it('formats and parses back (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (ms) => {
        expect(parseDuration(formatDuration(ms) as Duration)).toBe(ms);
      }),
    );
    expect(formatDuration(900_000)).toBe('15m');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(90_000)).toBe('90s');
  });

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        const ms = toMs(v);
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const ms = toMs(s);
        expect(ms === undefined || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });
});

describe('optionChecks', () => {
  class PkgError extends OrgError<'ERR_PKG_INVALID_OPTION'> {}
  const check = optionChecks((m) => new PkgError('ERR_PKG_INVALID_OPTION', m));
  const fails = (fn: () => unknown, ...parts: string[]) => {
    try {
      fn();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PkgError);
      for (const p of parts) expect((err as Error).message).toContain(p);
    }
  };

  it('applies fallbacks only to undefined (an explicit 0 stays 0)', () => {
    expect(check.duration(undefined, 'ttl', '5m')).toBe(300_000);
    expect(check.duration(0, 'ttl', '5m')).toBe(0);
    expect(check.duration(undefined, 'ttl')).toBeUndefined();
    expect(check.integer(0, 'n', 10)).toBe(0);
    expect(check.boolean(false, 'b', true)).toBe(false);
    expect(check.oneOf(undefined, 'mode', ['a', 'b'], 'a')).toBe('a');
    expect(check.object(undefined, 'options')).toEqual({});
  });

  it('names the option, what it must be and what it got', () => {
    fails(() => check.duration('soon', 'ttl', '5m'), '`ttl` must be a duration', '"soon"');
    fails(() => check.duration('1s', 'timeout', undefined, { min: 5_000 }), 'at least 5000 ms');
    fails(
      () => check.integer(1.5, 'maxSize', 10, { min: 1 }),
      '`maxSize` must be a whole number of at least 1',
      '1.5',
    );
    fails(() => check.number(Number.NaN, 'ratio', 0, { min: 0, max: 1 }), 'between 0 and 1');
    fails(() => check.oneOf('c', 'mode', ['a', 'b']), "one of 'a', 'b'", '"c"');
    fails(() => check.boolean('yes', 'flag'), 'true or false');
    fails(() => check.string('', 'prefix'), 'non-empty string');
    fails(() => check.func(1, 'onError'), 'a function');
    fails(() => check.object([] as never, 'options'), 'an options object', 'an array');
  });

  it('never echoes a string that could be a URL or a secret', () => {
    const secret = `redis://user:${'p'.repeat(60)}@host`;
    fails(() => check.duration(secret, 'ttl'));
    try {
      check.duration(secret, 'ttl');
    } catch (err) {
      expect((err as Error).message).not.toContain('ppp');
      expect((err as Error).message).toContain('a string of 78 characters');
    }
  });
});

describe('optionChecks ranges', () => {
  const check = optionChecks((m) => new OrgError('ERR_PKG_INVALID_OPTION', m));
  it('above is exclusive', () => {
    expect(check.duration('1ms', 'ttl', undefined, { above: 0 })).toBe(1);
    expect(() => check.duration(0, 'ttl', undefined, { above: 0 })).toThrow(
      '`ttl` must be a duration greater than 0 ms',
    );
    expect(() => check.number(5, 'ratio', undefined, { above: 0, max: 1 })).toThrow(
      'greater than 0 and at most 1',
    );
  });
});
