import { createStorage } from '@org/storage';
import { storageConformance } from '@org/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

// Heavy cases (1,005 keys, 12 MiB) run once per CI run: not in the built-package passes.
const heavy = process.env.ORG_TEST_DIST !== '1';

describe.runIf(motoAvailable)('S3 driver on moto', () => {
  storageConformance(
    's3 (moto)',
    async () => {
      const moto = await startMoto();
      const bucket = await moto.bucket('conformance');
      const storage = createStorage({
        // The conformance suite checks head parity, so it turns the multipart sha256 copy on.
        s3: { bucket, ...motoConnection(moto.endpoint), storeMultipartSha256: true },
        namespaces: ['pdfs', 'uploads', 'logos'],
      });
      return {
        storage,
        checksSignatures: false,
        async close() {
          await storage.close();
          await moto.stop();
        },
      };
    },
    { describe, it, expect, beforeAll, afterAll },
    { heavy },
  );
});
