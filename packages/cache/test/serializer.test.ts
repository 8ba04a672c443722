import { createCache, jsonSerializer } from '@org/cache';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const { serialize, deserialize } = jsonSerializer;
const roundTrip = (v: unknown) => deserialize(serialize(v));

// Values the default serializer promises to keep: JSON plus undefined and Dates, anywhere.
const leaf = fc.oneof(
  fc.string(),
  fc.string().map((s) => `\u0000${s}`),
  fc.constantFrom('\u0000u', '\u0000d123', '\\u0000', ''),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: true }),
);
const value = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 5 }),
  object: fc.dictionary(
    fc.string().filter((k) => k !== '__proto__'),
    tie('tree'),
    { maxKeys: 5, noNullPrototype: true },
  ),
})).tree;

describe('jsonSerializer', () => {
  it('round-trips JSON values with undefined and Dates anywhere (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(v)).toStrictEqual(v);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps undefined and null apart at the top, in arrays and as properties', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip([undefined, null])).toStrictEqual([undefined, null]);
    const o = roundTrip({ a: undefined, b: null }) as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(['a', 'b']);
    expect(o.a).toBeUndefined();
    expect(o.b).toBeNull();
  });

  it('brings Dates back as Dates, invalid ones included', () => {
    const d = roundTrip(new Date('2024-02-29T12:00:00.123Z'));
    expect(d).toBeInstanceOf(Date);
    expect((d as Date).toISOString()).toBe('2024-02-29T12:00:00.123Z');
    expect(Number.isNaN((roundTrip(new Date('nope')) as Date).getTime())).toBe(true);
  });

  it('leaves plain JSON as plain JSON (readable by other tools)', () => {
    expect(serialize({ a: 1, b: 'x', c: [true, null] })).toBe('{"a":1,"b":"x","c":[true,null]}');
  });

  it('concurrent getOrSet callers each get their own full copy (property)', async () => {
    const cache = createCache();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const key = `k${n++}`;
        const all = await Promise.all([1, 2, 3].map(() => cache.getOrSet(key, async () => v)));
        for (const r of all) expect(r).toStrictEqual(v);
        if (typeof v === 'object' && v !== null) {
          expect(all[0]).not.toBe(all[1]);
          expect(all[1]).not.toBe(all[2]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('copies a `__proto__` key as a plain property, and values nested past the copy depth', async () => {
    const cache = createCache();
    const withProto = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as object;
    const [r1, r2] = await Promise.all([1, 2].map(() => cache.getOrSet('p', () => withProto)));
    for (const r of [r1, r2] as Record<string, unknown>[]) {
      expect(Object.getPrototypeOf(r)).toBe(Object.prototype);
      expect(Object.keys(r)).toEqual(['__proto__', 'a']);
      expect((r as { polluted?: boolean }).polluted).toBeUndefined();
    }
    let deep: unknown = 'bottom';
    for (let i = 0; i < 1_500; i++) deep = [deep]; // past the copy depth, within what serializes
    const [d1, d2] = await Promise.all([1, 2].map(() => cache.getOrSet('deep', () => deep)));
    expect(d1).toStrictEqual(deep);
    expect(d1).not.toBe(d2);
  });
});
