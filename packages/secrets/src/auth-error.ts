const AUTH_CODES = new Set([
  // PostgreSQL: invalid_password, invalid_authorization_specification
  '28P01',
  '28000',
  // MySQL / MariaDB
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  // SMTP (nodemailer), Redis
  'EAUTH',
  'WRONGPASS',
  'NOAUTH',
  // AWS SDKs
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  // MongoDB: AuthenticationFailed
  '18',
  // common API error codes
  'invalid_api_key',
  'unauthorized',
  'authentication_error',
]);

function field(err: object, key: string): unknown {
  return (err as Record<string, unknown>)[key];
}

/**
 * The default test of `withSecret` for "the credential was refused": an HTTP 401 (or 403) on
 * `status`, `statusCode`, `response.status` or `$metadata.httpStatusCode`, or a `code`/`name`
 * that databases, SMTP, Redis, the AWS SDKs and common APIs use for a bad password or key.
 * Its `cause` is followed, up to three levels.
 */
export function isAuthError(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 3) return false;
  const response = field(err, 'response');
  const metadata = field(err, '$metadata');
  const statuses = [
    field(err, 'status'),
    field(err, 'statusCode'),
    typeof response === 'object' && response !== null ? field(response, 'status') : undefined,
    typeof metadata === 'object' && metadata !== null
      ? field(metadata, 'httpStatusCode')
      : undefined,
  ];
  if (statuses.some((s) => s === 401 || s === 403)) return true;
  for (const key of ['code', 'name', 'errno']) {
    const v = field(err, key);
    if ((typeof v === 'string' || typeof v === 'number') && AUTH_CODES.has(String(v))) {
      return true;
    }
  }
  return isAuthError(field(err, 'cause'), depth + 1);
}
