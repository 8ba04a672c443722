import type { Duration } from '@org/core';
import { check, invalidOption } from '../errors.js';
import type { HealthCheck } from '../types.js';

/**
 * What the PostgreSQL check needs of a `pg` Pool or Client (or anything alike): `query()` with a
 * config object. A `pg.Pool`, `pg.Client` and `pg.PoolClient` all fit.
 */
export interface PgQueryable {
  query(config: { text: string; query_timeout?: number }): Promise<unknown>;
}

/** Options of `pgCheck`. */
export interface PgCheckOptions {
  /** A `pg` Pool or Client the service already holds (never closed by the check). */
  client: PgQueryable;
  /** The probe query. @default 'SELECT 1' */
  query?: string | undefined;
  /** Timeout of the check; also sent to pg as `query_timeout`. @default 800 (ms) */
  timeout?: Duration | undefined;
  /** @default true */
  critical?: boolean | undefined;
}

/** Checks PostgreSQL with `SELECT 1` through the service's own `pg` pool or client. */
export function pgCheck(options: PgCheckOptions): HealthCheck {
  const o = check.object(options, 'options');
  if (typeof o.client?.query !== 'function') {
    throw invalidOption('`client` must be a pg Pool or Client (anything with query())');
  }
  const { client } = o;
  const timeout = check.duration(o.timeout, 'timeout', 800, { min: 1 });
  const text = check.string(o.query, 'query', 'SELECT 1');
  const critical = check.boolean(o.critical, 'critical');
  // pg takes whole milliseconds.
  const queryTimeout = Math.ceil(timeout);
  return {
    componentType: 'datastore',
    timeout,
    ...(critical === undefined ? {} : { critical }),
    async check() {
      // pg cannot cancel a query on an AbortSignal; query_timeout makes it give up on its own.
      await client.query({ text, query_timeout: queryTimeout });
    },
  };
}
