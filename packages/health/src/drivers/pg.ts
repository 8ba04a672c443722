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
  /** A `pg` Pool or Client the service already holds. */
  client: PgQueryable;
  /** The probe query. @default 'SELECT 1' */
  query?: string;
  /** Timeout of the check, in ms; also sent to pg as `query_timeout`. @default 800 */
  timeout?: number;
  /** @default true */
  critical?: boolean;
}

/** Checks PostgreSQL with `SELECT 1` through the service's own `pg` pool or client. */
export function pgCheck(options: PgCheckOptions): HealthCheck {
  const timeout = options.timeout ?? 800;
  return {
    componentType: 'datastore',
    timeout,
    ...(options.critical === undefined ? {} : { critical: options.critical }),
    async check() {
      // pg cannot cancel a query on an AbortSignal; query_timeout makes it give up on its own.
      await options.client.query({ text: options.query ?? 'SELECT 1', query_timeout: timeout });
    },
  };
}
