import { jsonSerializer } from '@org/cache';
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
});
