import { packageBuild } from '../../tsup.shared.js';

// The root entry loads the S3 driver lazily through the package's own `./s3` export, so the
// AWS SDK is only ever loaded by apps that configure S3.
export default packageBuild({ external: ['@org/storage/s3'] });
