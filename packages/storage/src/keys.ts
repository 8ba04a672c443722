import { StorageError, StorageErrorCode } from './errors.js';

/** S3's limit on a key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;
/** The usual file-system limit on one path segment (ext4, APFS, NTFS), in UTF-8 bytes. */
export const MAX_SEGMENT_BYTES = 255;

// C0 controls, DEL and C1 controls: invisible, and several file systems refuse them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Characters Windows refuses in names (`:` also opens NTFS alternate data streams).
const WINDOWS_FORBIDDEN = /[<>:"|?*]/;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;
// Percent-encoded dot, slash, backslash or control character, also double-encoded (%252e):
// whatever decodes the key on its way (a proxy, a URL handler) must not turn it into a path.
const ENCODED_PATH = /%(25)*(2e|2f|5c|[01][0-9a-f]|7f)/i;

function invalid(key: string, rule: string): StorageError {
  const shown = JSON.stringify(key.length > 80 ? `${key.slice(0, 80)}…` : key);
  return new StorageError(StorageErrorCode.InvalidKey, `Invalid storage key ${shown}: ${rule}`, {
    key,
  });
}

/**
 * Why `key` is not a valid key, or `undefined` when it is. The rules are the same for every
 * driver and every OS, so a key accepted in local tests is accepted by S3 and the reverse:
 * - a non-empty string of `/`-separated segments, none empty (no leading, trailing or double
 *   `/`), none `.` or `..`, none starting with `.~` (reserved for the local driver);
 * - no backslash, NUL or other control character, no lone UTF-16 surrogate;
 * - no Windows drive letter, UNC form, reserved device name (`CON`, `NUL`…), no `<>:"|?*`, no
 *   segment ending in `.` or a space (Windows would silently strip it: two keys, one file);
 * - no percent-encoded `.`, `/`, `\` or control character (`%2e`, `%2F`, `%5c`, `%00`, `%252e`);
 * - at most 1,024 UTF-8 bytes in all and 255 per segment.
 * Accepted keys are stored byte-exact: nothing is normalised (NFC/NFD stay distinct).
 */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string') return 'a key must be a string';
  if (key.length === 0) return 'a key must not be empty';
  if (LONE_SURROGATE.test(key)) return 'it contains a lone UTF-16 surrogate; pass well-formed text';
  if (CONTROL.test(key)) return 'it contains a NUL or control character; remove it';
  if (key.includes('\\')) return 'it contains a backslash; use "/" to separate segments';
  if (/^[a-z]:/i.test(key)) return 'it starts with a Windows drive letter; use a relative key';
  if (key.startsWith('/')) return 'it starts with "/"; keys are relative, drop the leading slash';
  if (key.endsWith('/')) return 'it ends with "/"; name an object, not a folder';
  if (ENCODED_PATH.test(key)) {
    return 'it contains a percent-encoded ".", "/", "\\" or control character; store the decoded name';
  }
  if (WINDOWS_FORBIDDEN.test(key)) return 'it contains one of < > : " | ? * (refused on Windows)';
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > MAX_KEY_BYTES) {
    return `it is ${bytes} UTF-8 bytes long; the limit is ${MAX_KEY_BYTES}`;
  }
  for (const segment of key.split('/')) {
    if (segment === '') return 'it contains an empty segment ("//"); remove the extra slash';
    if (segment === '.' || segment === '..') return 'it contains a "." or ".." segment';
    if (segment.startsWith('.~')) return 'segments starting with ".~" are reserved';
    if (/[. ]$/.test(segment)) return 'a segment ends with "." or a space (Windows strips it)';
    if (WINDOWS_DEVICE.test(segment)) return `"${segment}" is a reserved device name on Windows`;
    const n = Buffer.byteLength(segment, 'utf8');
    if (n > MAX_SEGMENT_BYTES) {
      return `a segment is ${n} UTF-8 bytes long; the limit is ${MAX_SEGMENT_BYTES}`;
    }
  }
  return undefined;
}

/** Whether `key` is valid on every driver (see `keyProblem` for the rules). */
export function isValidKey(key: unknown): key is string {
  return keyProblem(key) === undefined;
}

/** Throws `StorageError` `ERR_STORAGE_INVALID_KEY` unless `key` is valid; returns it unchanged. */
export function validateKey(key: unknown): string {
  const problem = keyProblem(key);
  if (problem !== undefined) throw invalid(String(key), problem);
  return key as string;
}

/**
 * Checks a list prefix: `""` (everything) or text that could start a valid key. Trailing `/`
 * is allowed (`"pdfs/"`); the other rules are those of keys.
 */
export function validatePrefix(prefix: unknown): string {
  if (prefix === '') return '';
  if (typeof prefix !== 'string') throw invalid(String(prefix), 'a prefix must be a string');
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  // A prefix may end inside a segment, so "ends with . or space" does not apply to its last one.
  const probe = !prefix.endsWith('/') && /[. ]$/.test(body) ? `${body}x` : body;
  const problem = keyProblem(probe);
  if (problem !== undefined) throw invalid(prefix, problem);
  return prefix;
}
