/**
 * The one scrubber of the SDK: what leaves a process (an alert, a log line, a health reason)
 * passes through it first. It errs on the side of removing too much, and it goes by structure,
 * not by the characters a secret may hold: a password may contain quotes, spaces, '/', '#' or
 * '@', so its end is found from what must follow it, or the rest of the line goes.
 *
 * Two presentations share the rules:
 * - `'event'` (the default, for alerts and logs): masks read `[redacted]`, `[jwt]`, `[email]`;
 *   URLs keep their path with secret query parameters masked; a value after `password=`,
 *   `Authorization:`, `Bearer` … is cut to the end of the line; strings are cut to 8192 chars.
 * - `'reason'` (for a one-line reason shown to a load balancer or a stranger): masks read `***`;
 *   URLs keep only scheme and host:port; quoted and unquoted `key=value` / `key: value` values go
 *   up to their closing quote or the next pair; AWS keys and long opaque strings go too;
 *   whitespace is collapsed and the result cut to 200 characters.
 */

/** How a scrubbed string is presented (see the module comment). */
export type ScrubMode = 'event' | 'reason';

export interface ScrubOptions {
  /** `'event'` (default) or `'reason'`. */
  mode?: ScrubMode | undefined;
  /** Literal secrets (4 characters or more) masked wherever they appear, on top of the rules. */
  secrets?: readonly string[] | undefined;
}

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
// In a URL query: up to the next `&` or whitespace (a URL encodes its own separators; a `#` left
// unencoded in a secret would otherwise end it early, so the fragment goes too).
const QUERY_PARAM = new RegExp(
  `([?&](?:${KEY_WORDS}|[a-z_]*(?:token|secret|password|key))=)[^&\\s]*`,
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
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const EMAIL = /[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;

/** Longest string kept in an event, in characters; the rest is cut. */
const MAX_STRING = 8192;
/** Longest reason kept, in characters. */
const MAX_REASON = 200;
const MAX_DEPTH = 8;
const MAX_ENTRIES = 100;

// Every rule below needs one of these: a string without any is returned as it is (most are).
const MAY_HOLD = /[@=:]|eyJ|bearer|basic|digest|AKIA|ASIA/i;

// Masking goes by structure, not by the characters a secret may hold: a password may contain
// quotes, spaces, '/', '#' or '@', so its end is found from what must follow it (the host after
// the last '@' of a line, the quote that closes a value, the next key=value pair).

// The start of a URL or connection string (postgres://, redis://, mongodb+srv:// …).
const SCHEME_RE = /\b([a-z][a-z0-9+.-]{1,20}):\/\//gi;
// A host (name, IPv4, [IPv6]) with an optional port, as it follows userinfo.
const HOST_RE =
  /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*)(?::\d{1,5})?/i;
// `user:` at the start of a token, for `user:password@host` without a scheme.
const USER_RE = /(?<![\w.%+:/-])([a-z0-9._%+-]{1,64}):(?!\s|\/\/)/gi;
// A key that names a secret (password, "token", apiKey …), and its separator.
const KEY_RE =
  /(["']?)\b([\w.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|auth|session|cookie|signature)[\w.-]*)\1(\s*[=:]\s*)/gi;
const SECRET_KEY_AT_START = new RegExp(KEY_RE.source, 'iy');
// Where another key=value or key: value pair starts: the end of an unquoted value.
const NEXT_PAIR_RE = /(?:\s+|\s*[,;&]\s*)["']?[\w.-]+["']?\s*[=:]/g;
// Header-style credentials: capitalised as in headers, so that 'token expired' stays readable.
const AUTH_RE = /\b(Bearer|Basic|Token|bearer)\s+\S{8,}/g;
const JWT_RE = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const AWS_KEY_RE = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;
// Long opaque strings (hex, base64) are more likely keys than words.
const OPAQUE_RE = /\b[A-Za-z0-9+/_-]{32,}={0,2}/g;
// What may follow a closing quote.
const AFTER_QUOTE_RE = /[\s,;&)}\]]/;

function lineEnd(text: string, from: number): number {
  const n = text.slice(from).search(/[\r\n]/);
  return n === -1 ? text.length : from + n;
}

/** The index of the '@' ending userinfo that starts at `from`, or -1: the last '@' of the line followed by a host. */
function userinfoEnd(text: string, from: number, end: number): number {
  for (let at = text.lastIndexOf('@', end - 1); at >= from; at = text.lastIndexOf('@', at - 1)) {
    if (HOST_RE.test(text.slice(at + 1, end))) return at;
    if (at === 0) break;
  }
  return -1;
}

/**
 * URLs keep scheme, `<mask>@` for any userinfo, and host:port; with `keepPath` the rest of the URL
 * stays (its secret query parameters are masked by another rule), else path, query and fragment go.
 */
function maskUrls(text: string, mask: string, keepPath: boolean): string {
  let out = '';
  let pos = 0;
  SCHEME_RE.lastIndex = 0;
  for (let m = SCHEME_RE.exec(text); m !== null; m = SCHEME_RE.exec(text)) {
    const from = m.index + m[0].length;
    const end = lineEnd(text, from);
    let at = userinfoEnd(text, from, end);
    // Userinfo is `user:password` (anything) or a bare user name; else the '@' is in a path.
    if (at !== -1 && !text.slice(from, at).includes(':') && /[\s/?#]/.test(text.slice(from, at))) {
      at = -1;
    }
    // Else the userinfo is what precedes the first '@' before any '/', '?', '#' or space.
    if (at === -1) {
      const first = /^[^\s/?#@]*@/.exec(text.slice(from, end));
      if (first !== null && HOST_RE.test(text.slice(from + first[0].length, end))) {
        at = from + first[0].length - 1;
      }
    }
    const hostFrom = at === -1 ? from : at + 1;
    const host = HOST_RE.exec(text.slice(hostFrom, end))?.[0] ?? '';
    let next = hostFrom + host.length;
    if (!keepPath) {
      // Path, query and fragment can carry secrets: they go, up to a space or a quote.
      while (next < end && !/[\s'"<>]/.test(text[next] ?? ' ')) next++;
    }
    out += `${text.slice(pos, m.index)}${m[1]}://${at === -1 ? '' : `${mask}@`}${host}`;
    pos = next;
    SCHEME_RE.lastIndex = next;
  }
  return out + text.slice(pos);
}

/** `user:password@host` without a scheme: the password (anything up to the host) goes. */
function maskBareUserinfo(text: string, mask: string): string {
  let out = '';
  let pos = 0;
  USER_RE.lastIndex = 0;
  for (let m = USER_RE.exec(text); m !== null; m = USER_RE.exec(text)) {
    const from = m.index + m[0].length;
    const end = lineEnd(text, from);
    const at = userinfoEnd(text, from, end);
    if (at === -1 || text.slice(from, at) === mask) continue;
    out += `${text.slice(pos, from)}${mask}`;
    pos = at;
    USER_RE.lastIndex = at + 1;
  }
  return out + text.slice(pos);
}

/** The end (exclusive) of a value quoted with `q` that starts at `from`: a closing quote followed by a delimiter. */
function quotedEnd(text: string, from: number, q: string, end: number): number {
  for (let i = from + 1; i < end; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === q && (i + 1 >= end || AFTER_QUOTE_RE.test(text[i + 1] ?? ' '))) return i + 1;
  }
  return end;
}

/** key=value and key: value pairs whose key names a secret: the value, quoted or not, goes. */
function maskPairs(text: string): string {
  let out = '';
  let pos = 0;
  KEY_RE.lastIndex = 0;
  for (let m = KEY_RE.exec(text); m !== null; m = KEY_RE.exec(text)) {
    const from = m.index + m[0].length;
    const end = lineEnd(text, from);
    const rest = text.slice(from, end);
    // A value that is itself the next key (`db: PASSWORD: "…"`) is left for that key's match.
    SECRET_KEY_AT_START.lastIndex = 0;
    if (rest === '' || SECRET_KEY_AT_START.test(rest)) continue;
    const q = rest[0];
    let valueEnd: number;
    if (q === '"' || q === "'") valueEnd = quotedEnd(text, from, q, end);
    else {
      NEXT_PAIR_RE.lastIndex = 0;
      const next = NEXT_PAIR_RE.exec(rest);
      valueEnd = next === null ? end : from + next.index;
    }
    const value = text.slice(from, valueEnd);
    if (value === '***' || value === '"***"' || value === "'***'") continue;
    out += `${text.slice(pos, from)}${q === '"' || q === "'" ? `${q}***${q}` : '***'}`;
    pos = valueEnd;
    KEY_RE.lastIndex = Math.max(valueEnd, from);
  }
  return out + text.slice(pos);
}

function maskLiterals(text: string, secrets: readonly string[] | undefined, mask: string): string {
  let out = text;
  if (secrets)
    for (const s of secrets)
      if (typeof s === 'string' && s.length >= 4) out = out.split(s).join(mask);
  return out;
}

function eventString(text: string, secrets: readonly string[] | undefined): string {
  const hasSecrets = secrets !== undefined && secrets.length > 0;
  if (!hasSecrets && text.length <= MAX_STRING && !MAY_HOLD.test(text)) return text;
  let s = maskLiterals(text, secrets, REDACTED);
  s = s.length > MAX_STRING ? `${s.slice(0, MAX_STRING)}…` : s;
  s = s.replace(HEADER_LINE, `$1$2 ${REDACTED}`);
  s = s.replace(QUERY_PARAM, `$1${REDACTED}`);
  s = maskBareUserinfo(maskUrls(s, REDACTED, true), REDACTED);
  s = s.replace(KEY_VALUE, `$1 ${REDACTED}`);
  s = s.replace(
    BEARER,
    (_m, a: string | undefined, b: string | undefined) => `${a ?? b} ${REDACTED}`,
  );
  s = s.replace(JWT, '[jwt]');
  s = s.replace(AWS_KEY_RE, REDACTED);
  s = s.replace(EMAIL, '[email]');
  return s;
}

function reasonString(text: string, secrets: readonly string[] | undefined): string {
  let out = maskLiterals(text, secrets, '***');
  out = maskPairs(
    maskBareUserinfo(maskUrls(out, '***', false), '***').replace(
      AUTH_RE,
      (_m, kind: string) => `${kind} ***`,
    ),
  )
    .replace(JWT_RE, '***')
    .replace(AWS_KEY_RE, '***')
    // An email goes, but not the host after userinfo already masked (`***@db.internal`) nor a
    // versioned path (`vitest@4.0.0`).
    .replace(EMAIL, (m) =>
      m.slice(0, m.lastIndexOf('@')).endsWith('***') || !/[a-z]$/i.test(m) ? m : '***',
    )
    .replace(OPAQUE_RE, '***')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > MAX_REASON ? `${out.slice(0, MAX_REASON - 1)}…` : out;
}

/**
 * Scrubs one string: credentials in URLs and connection strings (with or without a scheme),
 * `key=value` / `key: value` secrets quoted or not, `Authorization`/`Cookie` header lines, bearer
 * and basic tokens, JWTs, emails (`'event'`), AWS keys and long opaque strings (`'reason'`), and
 * any of `options.secrets`. Never throws: what is not a string becomes `''`.
 */
export function scrubString(text: string, options: ScrubOptions = {}): string {
  if (typeof text !== 'string') return '';
  try {
    return options.mode === 'reason'
      ? reasonString(text, options.secrets)
      : eventString(text, options.secrets);
  } catch {
    return options.mode === 'reason' ? '***' : REDACTED;
  }
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
 * A scrubbed copy of `value`, safe to send: strings scrubbed ({@link scrubString}, `'event'`
 * mode), values under sensitive keys (`authorization`, `cookie`, `password`, `*token*` …)
 * replaced, wrapped secrets (`toString()` is `[secret]`) replaced, cycles cut, depth (8), arrays
 * and objects (100 entries) and strings bounded. Errors become `{ name, message, stack }`.
 * Never throws.
 */
export function scrub<T>(value: T, options: Pick<ScrubOptions, 'secrets'> = {}): T {
  try {
    return walk(value, 0, new WeakSet(), options.secrets) as T;
  } catch {
    return REDACTED as T;
  }
}

function walk(
  value: unknown,
  depth: number,
  seen: WeakSet<object>,
  secrets: readonly string[] | undefined,
): unknown {
  if (typeof value === 'string') return eventString(value, secrets);
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
      return walk(
        { name: value.name, message: value.message, stack: value.stack },
        depth,
        seen,
        secrets,
      );
    }
    if (Array.isArray(value)) {
      return value.slice(0, MAX_ENTRIES).map((v) => walk(v, depth + 1, seen, secrets));
    }
    if (value instanceof Map) return walk(Object.fromEntries(value), depth, seen, secrets);
    if (value instanceof Headers)
      return walk(Object.fromEntries(value.entries()), depth, seen, secrets);
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const key of Object.keys(value)) {
      if (n++ >= MAX_ENTRIES) break;
      const v = (value as Record<string, unknown>)[key];
      out[eventString(key, secrets)] =
        sensitiveKey(key) && v !== undefined && v !== null && typeof v !== 'boolean'
          ? REDACTED
          : walk(v, depth + 1, seen, secrets);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
