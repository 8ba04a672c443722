import { sleep } from '@org/core';
import { fuzzHttpHandler, fuzzJunk } from '@org/test-utils';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBackupTrigger } from '../src/trigger.js';

const TOKEN = 'fuzz-token-5b0e4b8f2a6c4e1d9f3a7b2c8d0e6f14';
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const tokenHeader = fc.tuple(
  pick('X-Backup-Token', 'x-backup-token'),
  fc.oneof(
    { arbitrary: pick(TOKEN), weight: 4 },
    { arbitrary: pick('', TOKEN.slice(1), `${TOKEN} `), weight: 1 },
    { arbitrary: fuzzJunk, weight: 1 },
  ),
);

describe('backup trigger under malformed requests', () => {
  it('never throws out of the listener; answers each with a status line; memory stays flat', async () => {
    let runs = 0;
    await fuzzHttpHandler({
      setup: async () => {
        const trigger = createBackupTrigger({
          token: TOKEN,
          targets: ['r2', 's3', 'all'],
          // Runs that span several batches, so that later POSTs meet one running (409).
          run: async ({ signal }) => {
            runs++;
            if (runs > 1) await sleep(1500, signal);
            return { ok: true };
          },
        });
        // A known run id, so that the status route is reached with a real id too.
        const first = await trigger.fetch(
          new Request('http://x/backup', {
            method: 'POST',
            headers: { 'x-backup-token': TOKEN },
          }),
        );
        const { runId } = (await first.json()) as { runId: string };
        return {
          listener: trigger.handler,
          // '/backup' thrice: POSTs with the token that start runs are otherwise rare.
          valid: [
            '/backup',
            '/backup',
            '/backup',
            `/backup/${runId}`,
            '/backup/00000000-0000-4000-8000-000000000000',
          ],
          close: () => trigger.close(),
        };
      },
      oddTargets: ['/backup?', '/backup#x', '/backup/', '/backup//x', 'http://h/backup', 'backup'],
      prefixes: ['/', '/backup/', 'http://127.0.0.1/backup/', '//x/'],
      // The token is listed thrice so that many requests carry it: most then reach the routes.
      headers: [
        tokenHeader,
        fc.tuple(
          pick('Content-Type'),
          fc.oneof(pick('application/json', 'text/plain', 'multipart/form-data', ''), fuzzJunk),
        ),
      ],
      // Few sampled requests are a well-formed POST with the token, and a 202 is not read back
      // when pipelined junk follows it: the runs counted below and the 409s show that runs started.
      statuses: ['400', '401', '404', '405', '409'],
    });
    expect(runs).toBeGreaterThan(1);
  }, 120_000);
});
