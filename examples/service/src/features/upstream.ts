import type { Feature } from '../app.js';

/** Calls a flaky upstream through a breaker; filled in with @org/resilience. */
export const upstream: Feature = (app) => {
  app.route('GET', '/upstream', () => ({ ok: true }));
};
