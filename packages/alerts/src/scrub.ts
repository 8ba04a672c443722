/**
 * The scrubber: what leaves the process (to Sentry or to stderr) passes through it first.
 * It errs on the side of removing too much: a value after `password=` is cut to the end of the
 * line, because a secret may hold any printable character, spaces included.
 */

const REDACTED = '[redacted]';
const SECRET = '[secret]';

/** Object keys whose values are dropped whatever they hold. */
const SENSITIVE_KEY =
  /^(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|api[-_]?key|apikey|access[-_]?key|passwd|pwd|session(?:[-_]?id)?|private[-_]?key|credentials?|dsn|auth)$|password|token|secret/i;
// Keys repeat (every stack frame has the same five): their verdicts are kept, up to a bound.
const keyVerdicts = new Map<string, boolean>();
function sensitiveKey(key: string): boolean {
  let v = keyVerdicts.get(key);
  if (v === undefined) {
    v = SENSITIVE_KEY.test(key);
    if (keyVerdicts.size < 1000) keyVerdicts.set(key, v);
  }
  return v;
}

const KEY_WORDS =
  'password|passwd|pwd|secret|client[-_]?secret|token|access[-_]?token|refresh[-_]?token|id[-_]?token|api[-_]?key|apikey|access[-_]?key|private[-_]?key|session[-_]?id|auth|sig|signature';

// Header lines: everything after the colon to the end of the line.
const HEADER_LINE =
  /\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)(["']?\s*[:=])[^\r\n]*/gi;
// In a URL query: up to the next `&`, `#` or whitespace (a URL encodes its own separators).
const QUERY_PARAM = new RegExp(
  `([?&](?:${KEY_WORDS}|[a-z_]*(?:token|secret|password|key))=)[^&#\\s]*`,
  'gi',
);
// Elsewhere: `key=value`, `key: value`, `"key": "value"`: to the end of the line.
const KEY_VALUE = new RegExp(
  `\\b((?:[a-z0-9_-]*[-_])?(?:${KEY_WORDS})["']?\\s*[:=])(?!\\s?\\[redacted\\])[^\\r\\n]*`,
  'gi',
);
// `Bearer <anything>` to the end of the line; `Basic`/`Digest` only before a credential-like word.
const BEARER =
  /\b(bearer)\s+(?!\[redacted\])[^\r\n]*|\b(basic|digest)\s+[A-Za-z0-9+/=._~-]{8,}[^\r\n]*/gi;
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const EMAIL = /[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/** Longest string kept, in characters; the rest is cut. */
const MAX_STRING = 8192;
const MAX_DEPTH = 8;
const MAX_ENTRIES = 100;

// Every rule below needs one of these: a string without any is returned as it is (most are).
const MAY_HOLD = /[@=:]|eyJ|bearer|basic|digest/i;

/** Scrubs one string: tokens, credentials, emails. */
export function scrubString(text: string): string {
  if (text.length <= MAX_STRING && !MAY_HOLD.test(text)) return text;
  let s = text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  s = s.replace(HEADER_LINE, `$1$2 ${REDACTED}`);
  s = s.replace(QUERY_PARAM, `$1${REDACTED}`);
  s = s.replace(USERINFO, `$1${REDACTED}@`);
  s = s.replace(KEY_VALUE, `$1 ${REDACTED}`);
  s = s.replace(
    BEARER,
    (_m, a: string | undefined, b: string | undefined) => `${a ?? b} ${REDACTED}`,
  );
  s = s.replace(JWT, '[jwt]');
  s = s.replace(EMAIL, '[email]');
  return s;
}

/** Whether `value` is a wrapped secret (an `@org/secrets` value): its `toString()` is `[secret]`. */
export function isWrappedSecret(value: object): boolean {
  const own = (value as { toString?: unknown }).toString;
  if (typeof own !== 'function' || own === Object.prototype.toString) return false;
  if (own === Array.prototype.toString || own === Error.prototype.toString) return false;
  try {
    return String(value) === SECRET;
  } catch {
    return true; // a toString that throws guards something: keep it out
  }
}

/**
 * A scrubbed copy of `value`, safe to send: strings scrubbed ({@link scrubString}), values under
 * sensitive keys (`authorization`, `cookie`, `password`, `*token*` …) replaced, wrapped secrets
 * (`toString()` is `[secret]`) replaced, cycles cut, depth, arrays and strings bounded. Errors
 * become `{ name, message, stack }`. Never throws.
 */
export function scrub<T>(value: T): T {
  try {
    return walk(value, 0, new WeakSet()) as T;
  } catch {
    return REDACTED as T;
  }
}

function walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return `[${typeof value}]`;
    return value;
  }
  if (isWrappedSecret(value)) return SECRET;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[depth]';
  seen.add(value);
  try {
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) {
      return walk({ name: value.name, message: value.message, stack: value.stack }, depth, seen);
    }
    if (Array.isArray(value)) {
      return value.slice(0, MAX_ENTRIES).map((v) => walk(v, depth + 1, seen));
    }
    if (value instanceof Map) return walk(Object.fromEntries(value), depth, seen);
    if (value instanceof Headers) return walk(Object.fromEntries(value.entries()), depth, seen);
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const key of Object.keys(value)) {
      if (n++ >= MAX_ENTRIES) break;
      const v = (value as Record<string, unknown>)[key];
      out[scrubString(key)] =
        sensitiveKey(key) && v !== undefined && v !== null && typeof v !== 'boolean'
          ? REDACTED
          : walk(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
