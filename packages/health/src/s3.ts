export { type S3CheckOptions, type S3Sender, s3Check } from './drivers/s3.js';
