import { CacheError, CacheErrorCode } from './errors.js';

/** Turns values into strings for storage and back. Must round-trip what it accepts. */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

// Markers are strings starting with U+0000, which JSON writes as the escape `\u0000`. A user
// string that itself starts with U+0000 gets a second one, so nothing is ambiguous, and text with
// no `\u0000` escape in it (nearly all) is parsed without a reviver, at JSON.parse speed.
const NUL = '\u0000';
const UNDEFINED = '\u0000u';
const DATE = '\u0000d';

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return DATE + raw.getTime();
  if (value === undefined) return UNDEFINED;
  if (typeof value === 'string' && value.charCodeAt(0) === 0) return NUL + value;
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'string' || value.charCodeAt(0) !== 0) return value;
  if (value === UNDEFINED) return undefined;
  if (value.startsWith(DATE)) return new Date(Number(value.slice(2)));
  return value.slice(1);
}

/**
 * The default serializer: JSON, extended so that `undefined` stays apart from `null` (at the top
 * level, in arrays and as a property), Dates come back as Dates, and strings are untouched.
 * BigInt, functions, symbols and cycles are refused with `ERR_CACHE_SERIALIZE`.
 */
export const jsonSerializer: Serializer = {
  serialize(value) {
    try {
      return JSON.stringify(value, replacer) as string;
    } catch (cause) {
      throw new CacheError(
        CacheErrorCode.Serialize,
        'The value cannot be stored as JSON (BigInt, a cycle, or a throwing toJSON). Convert it first or pass a `serializer`.',
        { cause },
      );
    }
  },
  deserialize(text) {
    if (!text.includes('\\u0000')) return JSON.parse(text);
    return parseWithUndefined(text);
  },
};

function parseWithUndefined(text: string): unknown {
  // JSON.parse deletes a property whose reviver returns undefined; mark such spots and put them
  // back after parsing, so `{ a: undefined }` comes back with its key, as it went in.
  const holes: { holder: Record<string, unknown> | unknown[]; key: string }[] = [];
  const root = JSON.parse(text, function (this: Record<string, unknown>, key, value) {
    const out = reviver(key, value);
    if (out === undefined && value === UNDEFINED) {
      holes.push({ holder: this, key });
      return HOLE;
    }
    return out;
  });
  for (const { holder, key } of holes) {
    (holder as Record<string, unknown>)[key] = undefined;
  }
  return root === HOLE ? undefined : root;
}

const HOLE = Symbol('hole');
