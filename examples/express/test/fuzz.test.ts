import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.js';

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const root = mkdtempSync(join(tmpdir(), 'example-express-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the Express example under malformed requests', () => {
  it('never throws out of the listener, answers each with a status line, never a 5xx', async () => {
    // What the app logs as its own failure (`console.error` on a 500) fails the run too.
    const logged: unknown[][] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args) => void logged.push(args));
    await fuzzHttpHandler({
      setup: async (port) => {
        const example = await createApp({
          env: { STORAGE_ROOT: root },
          publicUrl: `http://127.0.0.1:${port}`,
          shutdownDelay: 0,
        });
        return {
          listener: example.app,
          valid: [
            '/',
            '/api/quotes/ACME',
            '/api/me',
            '/auth/token',
            '/chaos/upstream',
            '/.well-known/jwks.json',
            '/files/report.txt',
            '/files/report.txt/link',
            '/files/signed?key=uploads%2Freport.txt&expires=1&method=GET&sig=x',
            '/health',
            '/health/full',
            '/readyz',
          ],
          close: () => example.close(),
        };
      },
      oddTargets: ['/files/%2e%2e', '/files/a%00b', '/api/quotes/%zz'],
      prefixes: ['/api/quotes/', '/files/', '/files/signed?key=', '/auth/', '/health/'],
      headers: [
        fc.tuple(
          pick('Content-Type'),
          fc.oneof(
            pick('application/json', 'text/plain', 'application/json; charset=latin9'),
            fuzzJunk,
          ),
        ),
        fc.tuple(
          pick('Authorization'),
          fc.oneof(pick('Bearer ', 'Bearer a.b.c', 'Basic x'), fuzzJunk),
        ),
        fc.tuple(
          pick('If-None-Match', 'Range'),
          fc.oneof(pick('*', 'W/"x"', 'bytes=0-1'), fuzzJunk),
        ),
      ],
      statuses: ['200', '400', '404'],
      numRuns: 1_000,
    }).finally(() => spy.mockRestore());
    expect(logged).toEqual([]);
  }, 120_000);
});
