import { invalidOption } from './errors.js';

const MAX_REASON = 200;

// A URL, or a connection string (postgres://, redis://, mongodb+srv:// …): only scheme and host
// survive, since user info, path and query can all carry secrets.
const URL_RE = /\b([a-z][a-z0-9+.-]{1,20}):\/\/([^\s'"<>]*)/gi;
// key=value and key: value pairs whose key names a secret (password=…, "token": "…", apiKey=…);
// a value that is itself the next key (`db: PASSWORD: "…"`) is left for that key's match.
const KV_RE =
  /(["']?)\b([\w.-]*(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential|authorization|auth|session|cookie|signature)[\w.-]*)\1(\s*[=:]\s*)(?![\w.-]+\s*[=:][\s"'])("[^"]*"|'[^']*'|[^\s,;&)}\]]+)/gi;
// Header-style credentials: capitalised as in headers, so that 'token expired' stays readable.
const AUTH_RE = /\b(Bearer|Basic|Token|bearer)\s+\S{8,}/g;
const JWT_RE = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g;
const AWS_KEY_RE = /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g;
// Long opaque strings (hex, base64) are more likely keys than words.
const OPAQUE_RE = /\b[A-Za-z0-9+/_-]{32,}={0,2}/g;

function hostOnly(scheme: string, rest: string): string {
  const authority = rest.split(/[/?#]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  const host = at === -1 ? authority : authority.slice(at + 1);
  return `${scheme}://${at === -1 ? '' : '***@'}${host}`;
}

/**
 * Reduces a message to a reason that is safe to show a load balancer, a log or a stranger:
 * URLs and connection strings keep only scheme and host, `password=…`-style pairs, bearer
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
  out = out
    .replace(URL_RE, (_m, scheme: string, rest: string) => hostOnly(scheme, rest))
    .replace(AUTH_RE, (_m, kind: string) => `${kind} ***`)
    .replace(KV_RE, (m, q: string, key: string, sep: string, value: string) =>
      value === '***' ? m : `${q}${key}${q}${sep}***`,
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
