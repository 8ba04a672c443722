import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { channelName, Emitter, isOrgError } from '../src/index.js';

interface TestEvents {
  hit: { key: string };
  error: { error: Error };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Emitter', () => {
  it('delivers one payload object and unsubscribes', () => {
    const e = new Emitter<TestEvents>('test');
    const seen: string[] = [];
    const off = e.on('hit', (p) => seen.push(p.key));
    e.emit('hit', { key: 'a' });
    off();
    off();
    e.emit('hit', { key: 'b' });
    expect(seen).toEqual(['a']);
  });

  it('the same listener subscribed twice is two subscriptions', () => {
    const e = new Emitter<TestEvents>('test');
    const l = vi.fn();
    const off1 = e.on('hit', l);
    e.on('hit', l);
    e.emit('hit', { key: 'a' });
    expect(l).toHaveBeenCalledTimes(2);
    off1();
    e.emit('hit', { key: 'a' });
    expect(l).toHaveBeenCalledTimes(3);
  });

  it('once fires once', () => {
    const e = new Emitter<TestEvents>('test');
    const l = vi.fn();
    e.once('hit', l);
    e.emit('hit', { key: 'a' });
    e.emit('hit', { key: 'b' });
    expect(l).toHaveBeenCalledTimes(1);
  });

  it('a throwing or rejecting listener becomes a warning; the others still run', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const e = new Emitter<TestEvents>('test');
    const after = vi.fn();
    e.on('hit', () => {
      throw new Error('listener bug');
    });
    e.on('hit', async () => {
      throw new Error('async bug');
    });
    e.on('hit', after);
    expect(() => e.emit('hit', { key: 'a' })).not.toThrow();
    expect(after).toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[0]?.[0]).toBe('@org/test: a "hit" listener threw: listener bug');
    expect(warn.mock.calls[0]?.[1]).toMatchObject({ code: 'ORG_LISTENER_ERROR' });
    expect(warn.mock.calls[1]?.[0]).toContain('async bug');
  });

  it('an error event without listeners is not thrown', () => {
    const e = new Emitter<TestEvents>('test');
    expect(() => e.emit('error', { error: new Error('x') })).not.toThrow();
  });

  it('publishes each event on org:<package>:<event>', () => {
    const e = new Emitter<TestEvents>('test-pkg');
    const name = channelName('test-pkg', 'hit');
    expect(name).toBe('org:test-pkg:hit');
    const got: unknown[] = [];
    const sub = (m: unknown) => got.push(m);
    expect(e.has('hit')).toBe(false);
    subscribe(name, sub);
    expect(e.has('hit')).toBe(true);
    const payload = { key: 'k' };
    e.emit('hit', payload);
    unsubscribe(name, sub);
    e.emit('hit', { key: 'not seen' });
    expect(got).toEqual([payload]);
  });

  it('a listener unsubscribing during emit does not skip the others', () => {
    const e = new Emitter<TestEvents>('test');
    const second = vi.fn();
    const off: () => void = e.on('hit', () => off());
    e.on('hit', second);
    e.emit('hit', { key: 'a' });
    expect(second).toHaveBeenCalled();
  });

  it('refuses a listener that is not a function with a coded error', () => {
    const e = new Emitter<TestEvents>('test');
    try {
      e.on('hit', 'nope' as never);
      expect.unreachable();
    } catch (err) {
      expect(isOrgError(err, 'ERR_CORE_INVALID_ARGUMENT')).toBe(true);
    }
    e.clear();
  });
});
