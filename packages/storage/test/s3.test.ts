import { createStorage } from '@org/storage';
import { describe } from 'vitest';
import { conformance } from './conformance.js';
import { credentials, motoAvailable, startMoto } from './moto.js';

describe.runIf(motoAvailable)('S3 driver on moto', () => {
  conformance('s3 (moto)', async () => {
    const moto = await startMoto();
    const bucket = await moto.bucket('conformance');
    const storage = createStorage({
      s3: { bucket, endpoint: moto.endpoint, forcePathStyle: true, credentials },
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
  });
});
