import { createStorage } from '@org/storage';
import { describe } from 'vitest';
import { conformance } from './conformance.js';
import { motoAvailable, motoConnection, startMoto } from './moto.js';

describe.runIf(motoAvailable)('S3 driver on moto', () => {
  conformance('s3 (moto)', async () => {
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
  });
});
