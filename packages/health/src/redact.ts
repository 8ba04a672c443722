import { invalidOption } from './errors.js';

const MAX_REASON = 200;

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

/** URLs keep scheme, '***@' for any userinfo, and host:port; path, query and fragment go. */
function maskUrls(text: string): string {
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
    const hostFrom = at === -1 ? from : at + 1;
    const host = HOST_RE.exec(text.slice(hostFrom, end))?.[0] ?? '';
    let next = hostFrom + host.length;
    // Path, query and fragment can carry secrets: they go, up to a space or a quote.
    while (next < end && !/[\s'"<>]/.test(text[next] ?? ' ')) next++;
    out += `${text.slice(pos, m.index)}${m[1]}://${at === -1 ? '' : '***@'}${host}`;
    pos = next;
    SCHEME_RE.lastIndex = next;
  }
  return out + text.slice(pos);
}

/** `user:password@host` without a scheme: the password (anything up to the host) goes. */
function maskBareUserinfo(text: string): string {
  let out = '';
  let pos = 0;
  USER_RE.lastIndex = 0;
  for (let m = USER_RE.exec(text); m !== null; m = USER_RE.exec(text)) {
    const from = m.index + m[0].length;
    const end = lineEnd(text, from);
    const at = userinfoEnd(text, from, end);
    if (at === -1 || text.slice(from, at) === '***') continue;
    out += `${text.slice(pos, from)}***`;
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

/**
 * Reduces a message to a reason that is safe to show a load balancer, a log or a stranger:
 * URLs and connection strings keep only scheme and host (userinfo becomes `***@`, whatever the
 * password holds), `user:password@host` without a scheme loses its password, the values of
 * `password=…` / `"token": "…"`-style pairs (quoted or not) go, bearer
 * tokens, JWTs, AWS keys, long opaque strings and any of `secrets` are replaced by `***`, and the
 * result is cut to 200 characters.
 */
export function redact(message: string, secrets: readonly string[] = []): string {
  if (typeof message !== 'string') throw invalidOption('redact(message): message must be a string');
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== 'string')) {
    throw invalidOption('redact(message, secrets): secrets must be an array of strings');
  }
  let out = message;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  out = maskPairs(
    maskBareUserinfo(maskUrls(out)).replace(AUTH_RE, (_m, kind: string) => `${kind} ***`),
  )
    .replace(JWT_RE, '***')
    .replace(AWS_KEY_RE, '***')
    .replace(OPAQUE_RE, '***')
    .replace(/\s+/g, ' ')
    .trim();
  return out.length > MAX_REASON ? `${out.slice(0, MAX_REASON - 1)}…` : out;
}

/** The safe reason of anything a check threw or rejected with. */
export function safeReason(err: unknown, secrets: readonly string[] = []): string {
  if (err instanceof AggregateError && err.errors.length > 0 && !err.message) {
    return safeReason(err.errors[0], secrets);
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || (typeof code === 'string' ? code : err.name);
    const withCode = typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
    return redact(withCode, secrets) || err.name;
  }
  if (typeof err === 'string') return redact(err, secrets) || 'failed';
  return 'failed';
}
