import { describe, expect, it } from 'vitest';
import { toStorageError } from '../src/drivers/s3-errors.js';
import { StorageErrorCode } from '../src/errors.js';

/** An AWS SDK error as the client rejects with it. */
const aws = (name: string, message: string, status?: number) =>
  Object.assign(new Error(message), {
    name,
    ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
  });

describe('S3 errors say what to do', () => {
  it('no credentials: names the variables and options that give them', () => {
    const err = toStorageError(
      aws('CredentialsProviderError', 'Could not load credentials from any providers'),
      'a.txt',
      'https://s3.eu-west-1.amazonaws.com/b',
    );
    expect(err.code).toBe(StorageErrorCode.Backend);
    expect(err.message).toContain('No AWS credentials');
    expect(err.message).toContain('AWS_ACCESS_KEY_ID');
    expect(err.message).toContain('`credentials`');
    expect(err.message).not.toContain('( ');
  });

  it('a missing bucket: the bucket option as well as AWS_S3_BUCKET', () => {
    const err = toStorageError(
      aws('NoSuchBucket', 'The specified bucket does not exist', 404),
      undefined,
      'http://127.0.0.1:9000/b',
    );
    expect(err.code).toBe(StorageErrorCode.InvalidOption);
    expect(err.message).toContain('`bucket`');
    expect(err.message).toContain('AWS_S3_BUCKET');
  });

  it('an error without a status: no empty parenthesis slot', () => {
    const err = toStorageError(aws('SomethingOdd', 'odd'), 'a.txt', 'https://x/b');
    expect(err.message).toBe('S3 request failed (SomethingOdd)');
    const withStatus = toStorageError(aws('Conflict', 'c', 409), 'a.txt', 'https://x/b');
    expect(withStatus.message).toBe('S3 request failed (409 Conflict)');
  });
});
