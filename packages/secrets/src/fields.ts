import { SecretsError, SecretsErrorCode } from './errors.js';
import { SecretValue } from './secret-value.js';

/**
 * The value of `field` in a JSON secret, as a `SecretValue` (a string field as is, any other
 * JSON value as its JSON text), or the error to throw. The parser's own message is never used:
 * it quotes the text it failed on, which is the secret.
 */
export function jsonField(value: SecretValue, field: string, name: string): SecretValue | Error {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.reveal());
  } catch {
    return new SecretsError(
      SecretsErrorCode.InvalidFormat,
      `Secret "${name}" is not JSON, so it has no field "${field}"; read it without \`field\`, or store a JSON object.`,
      { secretName: name },
    );
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    !Object.hasOwn(parsed, field)
  ) {
    return new SecretsError(
      SecretsErrorCode.InvalidFormat,
      `Secret "${name}" has no field "${field}"; add it, or fix the field name.`,
      { secretName: name },
    );
  }
  const v = (parsed as Record<string, unknown>)[field];
  if (v === null || v === '') {
    return new SecretsError(
      SecretsErrorCode.NotFound,
      `Field "${field}" of secret "${name}" is empty; give it a value.`,
      { secretName: name },
    );
  }
  return new SecretValue(typeof v === 'string' ? v : JSON.stringify(v), value.versionId);
}
