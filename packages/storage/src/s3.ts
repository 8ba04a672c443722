export {
  createS3Driver,
  type RetryFn,
  type RetryInfo,
  type S3Driver,
  type S3DriverOptions,
  type S3RetryOptions,
  SHA256_META,
} from './drivers/s3.js';
