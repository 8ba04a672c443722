import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStorage } from '@org/storage';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import fc from 'fast-check';
import { describe, it } from 'vitest';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);

describe('signed-URL handler under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'org-storage-fuzz-'));
    await fuzzHttpHandler({
      setup: async (port) => {
        const storage = createStorage({
          local: {
            root: dir,
            fsync: false,
            signing: { secret: 'f'.repeat(32), baseUrl: `http://127.0.0.1:${port}/signed` },
          },
        });
        await storage.put('obj.txt', '0123456789', { contentType: 'text/html' });
        const get = new URL(await storage.signedUrl('obj.txt'));
        const put = new URL(
          await storage.signedUrl('up.bin', { method: 'PUT', contentType: 'a/b' }),
        );
        return {
          listener: storage.handler({ maxUploadBytes: 4096 }),
          valid: [`${get.pathname}${get.search}`, `${put.pathname}${put.search}`],
          close: async () => {
            await storage.close();
            await rm(dir, { recursive: true, force: true });
          },
        };
      },
      oddTargets: ['/signed/%', '/signed/%E0%A4%A'],
      prefixes: ['/signed/', 'http://127.0.0.1/signed/', '/x/'],
      headers: [
        fc.tuple(
          pick('Range', 'range'),
          fc.oneof(
            pick(
              'bytes=5-2',
              'bytes=-',
              'bytes=--1',
              'bytes=-0',
              'bytes=99999999999999999999-',
              `bytes=${'0-0,'.repeat(500)}`,
              'bytes=0-1,5-2',
              'bits=0-1',
              'bytes = 1-2',
              'bytes=1-2-3',
            ),
            fuzzJunk,
          ),
        ),
        fc.tuple(pick('Content-Type'), fc.oneof(pick('a/b', 'text/html', ''), fuzzJunk)),
        fc.tuple(pick('If-None-Match', 'If-Range', 'Expect'), fuzzJunk),
      ],
      statuses: ['200', '206', '403', '404', '405', '416'],
    });
  }, 120_000);
});
