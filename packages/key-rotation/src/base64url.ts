const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url decoding: only the URL-safe alphabet, no padding, and the canonical encoding
 * (re-encoding gives the same text), so that one token never has two spellings.
 * Returns undefined when `text` is not such an encoding.
 */
export function decodeBase64url(text: string): Buffer | undefined {
  if (text.length % 4 === 1 || !B64URL.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  // Non-zero unused bits in the last character make a second spelling of the same bytes.
  if (bytes.toString('base64url') !== text) return undefined;
  return bytes;
}

/** base64url of a UTF-8 string or bytes, without padding. */
export function encodeBase64url(data: string | Uint8Array): string {
  return (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).toString(
    'base64url',
  );
}
