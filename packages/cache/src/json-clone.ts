/** What `cloneDecoded` returns for a value nested too deeply to copy by recursion. */
export const TOO_DEEP: unique symbol = Symbol('too-deep');

const MAX_DEPTH = 1_000;

/**
 * A deep copy of a value `jsonSerializer.deserialize` produced, which holds nothing but plain
 * objects, arrays, Dates and primitives (`undefined` included). Copying the parsed value is
 * several times cheaper than parsing its text again, which is what lets many callers of one load
 * each get their own copy at little cost. Own keys only, `__proto__` kept as a plain property
 * (as `JSON.parse` makes it); past `MAX_DEPTH` levels it gives up with `TOO_DEEP`.
 */
export function cloneDecoded(value: unknown): unknown {
  try {
    return copy(value, 0);
  } catch (err) {
    if (err === TOO_DEEP) return TOO_DEEP;
    throw err;
  }
}

function copy(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > MAX_DEPTH) throw TOO_DEEP;
  // A shallow copy first (V8 copies a plain object's or array's own properties in one go), then
  // a deep copy of the members that are objects themselves: most members are primitives.
  if (Array.isArray(v)) {
    const out = v.slice();
    for (let i = 0; i < out.length; i++) {
      const m: unknown = out[i];
      if (typeof m === 'object' && m !== null) out[i] = copy(m, depth + 1);
    }
    return out;
  }
  if (v instanceof Date) return new Date(v.getTime());
  const src = v as Record<string, unknown>;
  // Spread defines each own enumerable property, `__proto__` included, as a plain property.
  const out: Record<string, unknown> = { ...src };
  for (const k in src) {
    const m = src[k];
    if (typeof m !== 'object' || m === null || !Object.hasOwn(src, k)) continue;
    const c = copy(m, depth + 1);
    if (k === '__proto__') {
      Object.defineProperty(out, k, {
        value: c,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[k] = c;
    }
  }
  return out;
}

/**
 * Freezes `value` and every object and array in it (iteratively, so depth costs no stack), and
 * returns it. Dates are frozen too, which does not stop `setTime` on them.
 */
export function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const k of Object.keys(v)) stack.push((v as Record<string, unknown>)[k]);
  }
  return value;
}
