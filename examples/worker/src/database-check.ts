import { spawn } from 'node:child_process';
import { invalidOption } from './errors.js';

/** libpq's environment for `url`: the password goes in `PGPASSWORD`, never in a process list. */
export function libpqEnv(url: string): Record<string, string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidOption('DATABASE_URL must be a postgres:// connection URL');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw invalidOption('DATABASE_URL must be a postgres:// connection URL');
  }
  const env: Record<string, string> = {};
  const set = (name: string, value: string) => {
    if (value !== '') env[name] = decodeURIComponent(value);
  };
  set('PGHOST', u.hostname.replace(/^\[|\]$/g, ''));
  set('PGPORT', u.port);
  set('PGUSER', u.username);
  set('PGPASSWORD', u.password);
  set('PGDATABASE', u.pathname.slice(1));
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  const host = u.searchParams.get('host');
  if (host) env.PGHOST = host;
  return env;
}

/**
 * A health check of the database: `SELECT 1` through `psql` (the client tools the backups need
 * anyway), stopped when the check's signal aborts. It fails with psql's own message, which
 * never holds the password.
 */
export function databaseCheck(url: string, psql = 'psql') {
  const env = libpqEnv(url);
  return (signal: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(psql, ['-X', '-w', '-A', '-t', '-c', 'SELECT 1'], {
        env: { PATH: process.env.PATH ?? '', PGCONNECT_TIMEOUT: '2', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
        signal,
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 1000) stderr += d;
      });
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve();
        else reject(new Error(stderr.trim().split('\n')[0] || `psql exited with code ${code}`));
      });
    });
}
