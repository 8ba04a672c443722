import { abortable, describeError, isOrgError } from '@org/core';
import pg from 'pg';
import { redactUrl } from './child.js';
import { BackupError, BackupErrorCode, invalidOption } from './errors.js';

/** A database as the child processes get it: the URL without its password, which goes in a password file. */
export interface DbTarget {
  /** The connection URL without the password (safe in a process list and a message). */
  readonly url: string;
  /** The full URL, for the `pg` client. */
  readonly fullUrl: string;
  /** The database name. */
  readonly database: string;
  /** The password, for the tools' password file (never in their arguments). */
  readonly password: string | undefined;
}

/** Row count and checksum of one table, taken in the dump's snapshot. */
export interface TableStat {
  /** `schema.table`. */
  table: string;
  rows: number;
  /** Order-independent sum of the rows' MD5s (text of a number): equal data, equal checksum. */
  checksum: string;
}

/** Parses a `postgres://` URL, or throws ERR_BACKUP_INVALID_OPTION naming `name`. */
export function dbTarget(url: unknown, name: string): DbTarget {
  const u = typeof url === 'string' && URL.canParse(url) ? new URL(url) : undefined;
  if (u === undefined) throw invalidOption(`\`${name}\` must be a postgres:// connection URL`);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw invalidOption(`\`${name}\` must be a postgres:// connection URL; got ${u.protocol}//`);
  }
  const database = decodeURIComponent(u.pathname.slice(1));
  if (database === '' || database.includes('/')) {
    throw invalidOption(`\`${name}\` must name a database (postgres://host/dbname)`);
  }
  const password = u.password === '' ? undefined : decodeURIComponent(u.password);
  const fullUrl = u.toString();
  u.password = '';
  return { url: u.toString(), fullUrl, database, password };
}

/** The same server, another database. */
export function withDatabase(target: DbTarget, database: string): DbTarget {
  const u = new URL(target.fullUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return dbTarget(u.toString(), 'database');
}

/**
 * Connects a client (10 s connect timeout), abortable. A server that cannot be reached, a
 * database that does not exist or a refused login rejects with a `BackupError` of `code` (the
 * step's: `DumpFailed` for a run, `RestoreFailed` for a restore) naming the server without its
 * password; an abort or a timeout rejects as it is.
 */
export async function connect(
  target: DbTarget,
  signal?: AbortSignal,
  code: BackupErrorCode = BackupErrorCode.DumpFailed,
): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: target.fullUrl,
    connectionTimeoutMillis: 10_000,
  });
  // A failed or dropped connection must not crash the process; the pending query rejects.
  client.on('error', () => {});
  try {
    await abortable(client.connect(), signal, 'PostgreSQL connect');
  } catch (err) {
    void client.end().catch(() => {});
    if (isOrgError(err)) throw err;
    const { host, pathname } = new URL(target.url);
    let reason = redactUrl(describeError(err, 300));
    if (target.password !== undefined) reason = reason.replaceAll(target.password, '***');
    throw new BackupError(code, `Cannot connect to PostgreSQL at ${host}${pathname}: ${reason}`, {
      cause: err,
    });
  }
  return client;
}

/** How long ending an aborted run's backends may take, in milliseconds. */
const END_BACKENDS_MS = 3_000;

/** `target` with `application_name` set, so that its backend can be found in pg_stat_activity. */
export function withApplicationName(target: DbTarget, name: string): DbTarget {
  const add = (url: string) => {
    const u = new URL(url);
    u.searchParams.set('application_name', name);
    return u.toString();
  };
  return { ...target, url: add(target.url), fullUrl: add(target.fullUrl) };
}

/**
 * Ends the backends of an aborted run (`pid`, and every backend named `applicationName`) from a
 * separate short connection: a backend waiting on a lock keeps waiting after its client is gone,
 * and a query queued behind it on the same connection (ROLLBACK) would wait as long. Bounded by
 * 3 s; never rejects.
 */
export async function endBackends(
  target: DbTarget,
  pid: number | undefined,
  applicationName: string,
): Promise<void> {
  await withClient(target, AbortSignal.timeout(END_BACKENDS_MS), (c) =>
    c.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE pid <> pg_backend_pid() AND (pid = $1 OR application_name = $2)`,
      [pid ?? 0, applicationName],
    ),
  ).catch(() => {});
}

/** Runs `fn` with a connected client (see {@link connect} for `code`) and always ends it. */
export async function withClient<T>(
  target: DbTarget,
  signal: AbortSignal | undefined,
  fn: (client: pg.Client) => Promise<T>,
  code?: BackupErrorCode,
): Promise<T> {
  const client = await connect(target, signal, code);
  try {
    return await abortable(fn(client), signal, 'PostgreSQL query');
  } finally {
    await client.end().catch(() => {});
  }
}

const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1, 2`;

/** The user tables of the database, `schema.table`, sorted. */
export async function listTables(client: pg.Client): Promise<{ schema: string; name: string }[]> {
  const res = await client.query<{ schema: string; name: string }>(TABLES_SQL);
  return res.rows;
}

/** Row count and checksum of every user table (run inside the dump's snapshot). */
export async function tableStats(client: pg.Client): Promise<TableStat[]> {
  const out: TableStat[] = [];
  for (const t of await listTables(client)) {
    const ident = `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
    // A sum of 60-bit slices of each row's MD5: independent of row order, exact (numeric).
    const res = await client.query<{ n: string; sum: string }>(
      `SELECT count(*)::text AS n,
              coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text AS sum
       FROM ${ident} t`,
    );
    const row = res.rows[0]!;
    out.push({ table: `${t.schema}.${t.name}`, rows: Number(row.n), checksum: row.sum });
  }
  return out;
}

/** The server's version (`SHOW server_version`). */
export async function serverVersion(client: pg.Client): Promise<string> {
  const res = await client.query<{ server_version: string }>('SHOW server_version');
  return res.rows[0]!.server_version;
}

/** How many user tables the database holds. */
export async function userTableCount(client: pg.Client): Promise<number> {
  return (await listTables(client)).length;
}
