/**
 * Header logic of the signed-URL handler: byte ranges (RFC 9110 §14) and which content types a
 * browser would run or render as active content.
 */

/** A satisfiable range, both ends inclusive and inside the object. */
export interface ResolvedRange {
  start: number;
  end: number;
}

const SPEC = /^(\d*)-(\d*)$/;

/**
 * The range to serve for a `Range` header and an object of `size` bytes: `undefined` to serve
 * the whole object (no header, a unit other than `bytes`, or several ranges, which are answered
 * with the whole 200 when one of them is satisfiable), or `'unsatisfiable'` (416) when no
 * range-spec is valid and satisfiable (`bytes=5-2`, `bytes=-0`, a start past the end).
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ResolvedRange | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const value = header.trim();
  const eq = value.indexOf('=');
  // RFC 9110 §14.2: a range unit the server does not understand is ignored.
  if (eq < 0 || value.slice(0, eq).trim().toLowerCase() !== 'bytes') return undefined;
  const specs = value
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const ranges: ResolvedRange[] = [];
  for (const spec of specs) {
    const r = resolve(spec, size);
    if (r !== undefined) ranges.push(r);
  }
  if (ranges.length === 0) return 'unsatisfiable';
  // Several ranges: the whole object in one 200 is a valid answer, and cheaper than multipart.
  return specs.length === 1 ? ranges[0] : undefined;
}

function resolve(spec: string, size: number): ResolvedRange | undefined {
  const m = SPEC.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  // Digits past 2^53 are not a position any object has; they stay unsafe and are refused below.
  if (m[1] === '') {
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (!Number.isSafeInteger(start) || start >= size) return undefined;
  if (m[2] === '') return { start, end: size - 1 };
  const last = Number(m[2]);
  if (!Number.isFinite(last) || last < start) return undefined;
  return { start, end: Math.min(last, size - 1) };
}

/**
 * Types a browser runs or renders as active content (script, markup that can hold script,
 * plugins): HTML, XHTML, SVG and every XML type, JavaScript and ECMAScript, XSLT, WML, Flash,
 * multipart replace streams. A type that does not parse counts as active.
 */
export function isActiveContentType(contentType: string): boolean {
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  const m = /^([a-z0-9!#$&^_.+-]+)\/([a-z0-9!#$&^_.+-]+)$/.exec(essence);
  if (!m) return true;
  const [, type, sub = ''] = m;
  if (type === 'multipart') return true;
  if (sub.endsWith('+xml') || sub === 'xml' || sub.endsWith('-xml')) return true;
  return /html|script|ecmascript|jscript|xsl|wml|shockwave-flash|x-flash|cache-manifest|x-sgml|mathml/.test(
    sub,
  );
}
