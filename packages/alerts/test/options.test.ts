import { AlertsErrorCode, createAlerts, diagnosticsChannels, isAlertsError } from '@org/alerts';
import { isOrgError } from '@org/core';
import { describe, expect, it, vi } from 'vitest';

describe('options', () => {
  it.each([
    [{ dsn: 'not a dsn' }, 'dsn'],
    [{ sampleRate: 2 }, 'sampleRate'],
    [{ timeout: -1 }, 'timeout'],
    [{ queue: { max: 0 } }, 'queue.max'],
    [{ throttle: { window: '5 parsecs' } }, 'throttle.window'],
    [{ client: {} }, 'client'],
  ])('%o is ERR_ALERTS_INVALID_OPTION naming the option', (o, name) => {
    let err: unknown;
    try {
      createAlerts(o as never);
    } catch (e) {
      err = e;
    }
    expect(isAlertsError(err, AlertsErrorCode.InvalidOption)).toBe(true);
    expect(isOrgError(err)).toBe(true);
    expect((err as Error).message).toContain(name);
  });

  it('a DSN that does not parse is refused without being printed anywhere', () => {
    // Sentry's own parser writes "Invalid Sentry Dsn: <the value>" to the console: a secret
    // pasted into SENTRY_DSN by mistake would land in the logs.
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const dsn of [
        'sk_live_pasted_by_mistake',
        'https://sk_live_pasted@/1',
        'http://k@h:1/',
      ]) {
        expect(() => createAlerts({ dsn })).toThrow(
          expect.objectContaining({ code: 'ERR_ALERTS_INVALID_OPTION' }),
        );
      }
      const printed = [...error.mock.calls, ...warn.mock.calls, ...write.mock.calls]
        .flat()
        .join(' ');
      expect(printed).not.toContain('sk_live');
      expect(printed).not.toContain('k@h');
    } finally {
      error.mockRestore();
      warn.mockRestore();
      write.mockRestore();
    }
  });

  it('names its channels org:alerts:<event>', () => {
    expect(diagnosticsChannels).toEqual({
      dropped: 'org:alerts:dropped',
      throttled: 'org:alerts:throttled',
      sendFailed: 'org:alerts:sendFailed',
    });
  });
});

describe('without a DSN', () => {
  it('writes one JSON line per event on stderr, with the same fields', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const alerts = createAlerts({ environment: 'dev', release: 'r1' });
      expect(alerts.destination).toBe('stderr');
      alerts.captureException(new TypeError('bad input'), {
        tags: { route: '/pay' },
        fingerprint: ['pay'],
      });
      await alerts.flush();
      await alerts.close();
      const lines = write.mock.calls.map((c) => String(c[0]));
      expect(lines).toHaveLength(1);
      expect(lines[0]!.endsWith('\n')).toBe(true);
      const e = JSON.parse(lines[0]!);
      expect(e).toMatchObject({
        level: 'error',
        environment: 'dev',
        release: 'r1',
        tags: { route: '/pay' },
        fingerprint: ['pay'],
        exception: { type: 'TypeError', value: 'bad input' },
      });
      expect(e.exception.frames[0]).toMatch(/options\.test\.ts/);
    } finally {
      write.mockRestore();
    }
  });

  it('never throws into the app: odd values, a throwing scrub step, after close', async () => {
    const lines: string[] = [];
    const alerts = createAlerts({
      log: (l) => lines.push(l),
      scrub: () => {
        throw new Error('bad scrub');
      },
    });
    const evil = {
      get message() {
        throw new Error('getter');
      },
    };
    expect(() => alerts.captureException(evil)).not.toThrow();
    expect(() => alerts.captureException(Symbol('s'))).not.toThrow();
    expect(() => alerts.captureException(undefined)).not.toThrow();
    await alerts.flush('1s');
    expect(lines).toEqual([]); // the scrub step threw: dropped, never sent unscrubbed
    await alerts.close();
    await alerts.close();
    expect(alerts.captureException(new Error('late'))).toBe(false);
  });

  it('sampleRate 0 keeps no exceptions but every alert; a throttled fingerprint is reported', async () => {
    const lines: string[] = [];
    const alerts = createAlerts({ log: (l) => lines.push(l), sampleRate: 0, throttle: { max: 1 } });
    const throttled = vi.fn();
    alerts.on('throttled', throttled);
    expect(alerts.captureException(new Error('x'))).toBe(false);
    expect(alerts.alert('security_event', { message: 'm' })).toBe(true);
    expect(alerts.alert('security_event', { message: 'm' })).toBe(false);
    expect(throttled).toHaveBeenCalledWith({
      fingerprint: ['alert', 'security_event', 'm'],
      max: 1,
      windowMs: 60_000,
    });
    await alerts.flush();
    expect(lines.map((l) => JSON.parse(l).extra?.suppressed)).toEqual([undefined, 1]);
    await alerts.close();
  });
});

describe('throttle windows', () => {
  it('sends a summary when the window ends, and throttles fingerprints apart', async () => {
    let now = 0;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const lines: string[] = [];
      const alerts = createAlerts({
        log: (l) => lines.push(l),
        clock: { now: () => now },
        throttle: { max: 2, window: '10s' },
      });
      for (let i = 0; i < 50; i++) alerts.captureException(new Error('a'), { fingerprint: ['a'] });
      for (let i = 0; i < 50; i++) alerts.captureException(new Error('b'), { fingerprint: ['b'] });
      now = 10_000;
      await vi.advanceTimersByTimeAsync(10_000);
      vi.useRealTimers();
      await alerts.flush('1s');
      const got = lines.map(
        (l) => JSON.parse(l) as { fingerprint: string[]; extra?: { suppressed?: number } },
      );
      expect(got.map((e) => [e.fingerprint[0], e.extra?.suppressed])).toEqual([
        ['a', undefined],
        ['a', undefined],
        ['b', undefined],
        ['b', undefined],
        ['a', 48],
        ['b', 48],
      ]);
      await alerts.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('createAlertsFromEnv', () => {
  it('reads SENTRY_DSN, SENTRY_ENVIRONMENT and SENTRY_RELEASE; options win', async () => {
    const { createAlertsFromEnv } = await import('@org/alerts');
    const lines: string[] = [];
    const fromEnv = createAlertsFromEnv(
      { log: (l) => lines.push(l), release: 'override' },
      { SENTRY_DSN: '', SENTRY_ENVIRONMENT: 'staging', SENTRY_RELEASE: 'r9' },
    );
    expect(fromEnv.destination).toBe('stderr');
    fromEnv.captureException('a thrown string');
    await fromEnv.flush();
    expect(JSON.parse(lines[0]!)).toMatchObject({
      environment: 'staging',
      release: 'override',
      exception: { type: 'string', value: 'a thrown string' },
    });
    await fromEnv.close();
    const withDsn = createAlertsFromEnv({}, { SENTRY_DSN: 'http://k@127.0.0.1:9/1' });
    expect(withDsn.destination).toBe('sentry');
    await withDsn.close();
  });
});
