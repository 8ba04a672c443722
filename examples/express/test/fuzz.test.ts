import { resolve } from 'node:path';
import { fuzzSuite } from '@org/test-utils';
import { createApp } from '../src/app.js';

fuzzSuite({
  dir: resolve(import.meta.dirname, '..'),
  name: 'Express',
  fuzz: {
    // The app logs its own failures (a 500) with `console.error`.
    spyConsoleError: true,
    createTarget: async ({ log: _log, ...settings }) => {
      const example = await createApp(settings);
      return { listener: example.app, close: () => example.close() };
    },
  },
});
