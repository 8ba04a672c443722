#!/usr/bin/env node
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { toMs } from '@org/core';
import { createHealth, type Health, type HealthOptions } from './create-health.js';
import { safeReason } from './redact.js';
import type { HealthReport } from './types.js';

const USAGE = `Usage: check-health <url> | --config <module> [options]

Prints a service's full health report; exits 0 when healthy (or degraded), 1 when unhealthy,
2 on a usage error, a config module that is missing or throws, or when the service is
unreachable or the answer is not a health report. Exits once the report is printed, whatever
handles the config module holds.

  <url>                  the service's /health/full URL (a bare origin gets /health/full appended)
  --config <module>      a module whose default export is a Health or createHealth options
  --timeout <duration>   how long to wait for the report: whole ms, or with a unit such as
                         2s (default 5s; at most 2147483647 ms); applies to --config too
  --json                 print the report as JSON instead of a table
  --fail-on-degraded     exit 1 when degraded too
  -h, --help             this text`;

type Exit = { code: number; out: string };

const MAX_TIMER_MS = 2 ** 31 - 1;

function table(r: HealthReport): string {
  const rows = Object.entries(r.checks);
  const w = Math.max(5, ...rows.map(([n]) => n.length));
  const mark = { ok: '✓', warn: '!', fail: '✗', timeout: '⏱' } as const;
  const head = `${r.status.toUpperCase()}${r.serviceId ? `  ${r.serviceId}` : ''}${r.version ? ` v${r.version}` : ''}  checked ${r.checkedAt} in ${r.durationMs} ms`;
  const lines = rows.map(([name, c]) => {
    const value =
      c.measurement === 'responseTime'
        ? `${c.latencyMs} ms`
        : `${c.measurement} ${c.observedValue}${c.observedUnit === '%' ? '%' : c.observedUnit ? ` ${c.observedUnit}` : ''}`;
    const flags = c.critical ? '' : ' (optional)';
    const reason = c.reason ? `  ${c.reason}` : '';
    return `  ${mark[c.status]} ${name.padEnd(w)}  ${c.status.padEnd(7)} ${value}${flags}${reason}`;
  });
  return [head, ...lines].join('\n');
}

function isReport(x: unknown): x is HealthReport {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as HealthReport).status === 'string' &&
    typeof (x as HealthReport).checks === 'object'
  );
}

async function fromUrl(raw: string, timeoutMs: number): Promise<HealthReport | Exit> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      code: 2,
      out: `check-health: "${raw}" is not a URL; pass e.g. http://127.0.0.1:3000/health/full`,
    };
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/health/full';
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  try {
    const res = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        code: 2,
        out: `check-health: ${shown} answered HTTP ${res.status} without a JSON report`,
      };
    }
    if (!isReport(body)) {
      return {
        code: 2,
        out: `check-health: ${shown} answered HTTP ${res.status}, not a full report: ${text.slice(0, 200)}`,
      };
    }
    return body;
  } catch (err) {
    // fetch's TypeError says only "fetch failed": the cause's code, or its short message
    // ("bad port" for a port fetch refuses), says why.
    const c = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why =
      typeof c?.code === 'string'
        ? c.code
        : typeof c?.message === 'string' && c.message.length <= 60
          ? c.message
          : (err as Error).name;
    return { code: 2, out: `check-health: ${shown} is unreachable (${why})` };
  }
}

/** The full report of a Health, which is then closed (a client a check created would hold the process). */
async function fullThenClose(health: Health, timeoutMs: number): Promise<HealthReport> {
  try {
    return await health.full({ signal: AbortSignal.timeout(timeoutMs) });
  } finally {
    await health.close?.();
  }
}

async function fromConfig(path: string, timeoutMs: number): Promise<HealthReport | Exit> {
  if (/\.json$/i.test(path)) {
    return {
      code: 2,
      out: `check-health: ${path}: --config takes a JavaScript module (.js, .mjs) whose default export is a Health or createHealth options, not JSON`,
    };
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  } catch (err) {
    // A missing or throwing module is a usage error; its message may quote a secret.
    return { code: 2, out: `check-health: ${path} could not be loaded: ${safeReason(err)}` };
  }
  const exported = mod.default;
  if (exported && typeof (exported as Health).full === 'function')
    return fullThenClose(exported as Health, timeoutMs);
  if (exported && typeof (exported as HealthOptions).checks === 'object') {
    let health: Health;
    try {
      health = createHealth({ cache: 0, ...(exported as HealthOptions) });
    } catch (err) {
      return { code: 2, out: `check-health: ${path}: ${(err as Error).message}` };
    }
    return fullThenClose(health, timeoutMs);
  }
  return {
    code: 2,
    out: `check-health: ${path} must default-export a Health or createHealth options`,
  };
}

/** Runs the command with `argv` (without node and script); resolves the exit code and output. */
export async function run(argv: string[]): Promise<Exit> {
  let args: ReturnType<typeof parse>;
  const parse = (a: string[]) =>
    parseArgs({
      args: a,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        'fail-on-degraded': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  try {
    args = parse(argv);
  } catch (err) {
    return { code: 2, out: `check-health: ${(err as Error).message}\n\n${USAGE}` };
  }
  const { values, positionals } = args;
  if (values.help) return { code: 0, out: USAGE };
  const raw = values.timeout ?? '5s';
  // A bare number is milliseconds, as every duration of the SDK.
  let timeoutMs: number | undefined;
  try {
    timeoutMs = toMs(/^\s*[\d.]+\s*$/.test(raw) ? Number(raw) : raw);
  } catch {
    timeoutMs = undefined;
  }
  // Whole milliseconds that a timer can hold (up to 2^31 - 1 ms, about 24 days).
  if (
    timeoutMs === undefined ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > MAX_TIMER_MS
  ) {
    return {
      code: 2,
      out: `check-health: --timeout takes a duration from 1 ms to ${MAX_TIMER_MS} ms: whole ms, or with a unit such as '2s'`,
    };
  }
  const target = positionals[0];
  if (!values.config && !target) return { code: 2, out: USAGE };
  const result = values.config
    ? await fromConfig(values.config, timeoutMs)
    : await fromUrl(target!, timeoutMs);
  if (!isReport(result)) return result;
  const out = values.json ? JSON.stringify(result, null, 2) : table(result);
  const failing =
    result.status === 'unhealthy' || (values['fail-on-degraded'] && result.status === 'degraded');
  return { code: failing ? 1 : 0, out };
}

const { code, out } = await run(process.argv.slice(2));
// Exit once the output is written: a config module may hold handles of its own (a Redis
// client, a pool) that would otherwise keep the process alive for good.
(code === 2 ? process.stderr : process.stdout).write(`${out}\n`, () => process.exit(code));
