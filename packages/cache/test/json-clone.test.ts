import { describe, expect, it } from 'vitest';
import { cloneDecoded, deepFreeze, TOO_DEEP } from '../src/json-clone.js';
import { jsonSerializer } from '../src/serializer.js';

const roundTrip = (v: unknown) => jsonSerializer.deserialize(jsonSerializer.serialize(v));

describe('cloneDecoded (the copy each caller of a shared load gets)', () => {
  it('copies every level: objects, arrays, Dates; undefined and null kept', () => {
    const parsed = roundTrip({
      id: 7,
      at: new Date(1_700_000_000_000),
      none: undefined,
      nil: null,
      list: [1, { deep: [2, new Date(5)] }, undefined, null, 'x'],
      nested: { a: { b: { c: 'd' } } },
    }) as Record<string, unknown>;
    const copy = cloneDecoded(parsed) as typeof parsed;
    expect(copy).toEqual(parsed);
    expect(copy).not.toBe(parsed);
    expect('none' in copy).toBe(true);
    const list = copy.list as unknown[];
    const srcList = parsed.list as unknown[];
    expect(list).not.toBe(srcList);
    expect(list[1]).not.toBe(srcList[1]);
    expect((list[1] as { deep: unknown[] }).deep).not.toBe(
      (srcList[1] as { deep: unknown[] }).deep,
    );
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(parsed.at);
    expect((copy.at as Date).getTime()).toBe(1_700_000_000_000);
    // Mutating the copy leaves the original alone, at every level.
    (copy.nested as { a: { b: { c: string } } }).a.b.c = 'changed';
    list.push('more');
    (copy.at as Date).setTime(0);
    expect((parsed.nested as { a: { b: { c: string } } }).a.b.c).toBe('d');
    expect(srcList).toHaveLength(5);
    expect((parsed.at as Date).getTime()).toBe(1_700_000_000_000);
  });

  it('keeps a `__proto__` key as a plain property, as JSON.parse makes it', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": {"x": 1}}, "b": {"c": 2}}');
    const copy = cloneDecoded(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'b']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toEqual({
      polluted: { x: 1 },
    });
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).not.toBe(
      Object.getOwnPropertyDescriptor(parsed, '__proto__')?.value,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('copies own properties only, whatever Object.prototype carries', () => {
    const parsed = JSON.parse('{"a": {"b": 1}}');
    const proto = Object.prototype as Record<string, unknown>;
    proto.inherited = { sneaky: true };
    try {
      const copy = cloneDecoded(parsed) as Record<string, unknown>;
      expect(Object.keys(copy)).toEqual(['a']);
      expect(Object.hasOwn(copy, 'inherited')).toBe(false);
    } finally {
      delete proto.inherited;
    }
  });

  it('gives up with TOO_DEEP past 1,000 levels instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 2_000; i++) deep = [deep];
    expect(cloneDecoded(deep)).toBe(TOO_DEEP);
    let ok: unknown = 'leaf';
    for (let i = 0; i < 900; i++) ok = { next: ok };
    expect(cloneDecoded(ok)).toEqual(ok);
  });

  it('deepFreeze freezes every level, however deep, and returns its argument', () => {
    const v = { a: [{ b: 1 }], d: new Date(0) };
    expect(deepFreeze(v)).toBe(v);
    expect(Object.isFrozen(v) && Object.isFrozen(v.a) && Object.isFrozen(v.a[0])).toBe(true);
    expect(Object.isFrozen(v.d)).toBe(true);
    let deep: { next?: unknown } = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep.next = next;
      deep = next;
    }
    deepFreeze(root);
    expect(Object.isFrozen(deep)).toBe(true);
    expect(deepFreeze(7)).toBe(7);
  });
});
