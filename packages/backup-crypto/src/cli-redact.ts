/** @internal What the CLI prints in place of an argument that may be a key. */
export const REDACTED = '[redacted key-like argument]';

const URLSAFE_KEY = /^[A-Za-z0-9_-]{43}=$/;
const BASE64 = /^[A-Za-z0-9_+/-]+={0,2}$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** Runs of characters a key (in either base64 alphabet, or hex) is made of. */
const RUN = /[A-Za-z0-9_+/=-]+/g;
/** A run sharing this many characters with a key-like argument is taken for (part of) it. */
const WINDOW = 16;

/**
 * @internal Whether `text` may be a Fernet key given in the wrong place: 44 url-safe base64
 * characters ending in `=`, or anything that decodes to 32 bytes (base64 in either alphabet,
 * padded or not, or hex).
 */
export function looksLikeKey(text: string): boolean {
  const s = text.trim();
  if (URLSAFE_KEY.test(s) || HEX_KEY.test(s)) return true;
  return BASE64.test(s) && Buffer.from(s, 'base64').length === 32;
}

/**
 * The key-like pieces of one argument: itself, without dashes, an `--option=value`'s value, and
 * each of its path segments (a key typed as a directory).
 */
function keyLikeParts(arg: string): string[] {
  const parts = [arg, arg.replace(/^-+/, ''), ...arg.split(/[/\\]/)];
  const eq = arg.indexOf('=');
  if (arg.startsWith('-') && eq !== -1) parts.push(arg.slice(eq + 1));
  return parts.filter(looksLikeKey).map((p) => p.replace(/^-+/, '').replace(/=+$/, ''));
}

/**
 * @internal `message` with every run of key characters that is key-like itself, or shares
 * {@link WINDOW} characters with a key-like argument of `args`, replaced by {@link REDACTED}:
 * a key typed where a path or a command belongs must not come back in an error message (and
 * from there into CI logs), whichever error quotes it, in full or in part.
 */
export function redactKeyLike(message: string, args: readonly string[]): string {
  const windows = new Set<string>();
  for (const part of args.flatMap(keyLikeParts)) {
    for (let i = 0; i + WINDOW <= part.length; i++) windows.add(part.slice(i, i + WINDOW));
  }
  return message.replace(RUN, (run) => {
    if (looksLikeKey(run)) return REDACTED;
    for (let i = 0; i + WINDOW <= run.length; i++) {
      if (windows.has(run.slice(i, i + WINDOW))) return REDACTED;
    }
    return run;
  });
}

/** @internal `"value"`, or {@link REDACTED} when the value may be a key. */
export const showArgument = (value: string): string =>
  looksLikeKey(value) ? REDACTED : JSON.stringify(value);
