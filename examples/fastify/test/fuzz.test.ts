import { resolve } from 'node:path';
import { fuzzSuite } from '@org/test-utils';
import { createApp } from '../src/app.js';

fuzzSuite({
  dir: resolve(import.meta.dirname, '..'),
  name: 'Fastify',
  fuzz: {
    createTarget: async ({ log, ...settings }) => {
      const example = await createApp({
        ...settings,
        // The app's failures are its logger's error lines.
        logger: { level: 'error', stream: { write: (line: string) => log(line) } },
      });
      await example.app.ready();
      // Fastify's own request handling, without its server: the fuzz runner serves it.
      return {
        listener: (req, res) => example.app.routing(req, res),
        close: () => example.close(),
      };
    },
  },
});
