import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AbortedError,
  type Clock,
  type Duration,
  describeError,
  optionChecks,
  scrubString,
  systemClock,
  withTimeout,
} from '@org/core';
import { invalidOption } from './errors.js';

/** What `run` is called with: the request's target and tag, and the signal `close()` aborts. */
export interface BackupRunRequest {
  /** The target asked for in the body (`r2`, `s3`, `all` …); undefined: the run's default. */
  target: string | undefined;
  /** The tag asked for in the body (`pre-deploy` …); undefined when none was given. */
  tag: string | undefined;
  /** Aborts when the trigger is closed; the run must stop and clean up. */
  signal: AbortSignal;
}

/** A run's state, as `GET <path>/<runId>` answers it. */
export interface BackupRunState<R = unknown> {
  runId: string;
  /** `failed` when `run` rejected: a partial success must reject, so that it reads as failed. */
  status: 'running' | 'succeeded' | 'failed';
  target?: string;
  tag?: string;
  /** ISO 8601, from the trigger's clock. */
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** What `run` resolved with, when it survives `JSON.stringify`. */
  result?: R;
  /** Why `run` rejected: its `code` (or `ERR_BACKUP_RUN_FAILED`) and a scrubbed message. */
  error?: { code: string; message: string };
}

/** Options of {@link createBackupTrigger}. */
export interface BackupTriggerOptions<R = unknown> {
  /**
   * The shared secret callers send as `X-Backup-Token`: at least 32 characters (`openssl rand
   * -hex 32`). Compared in constant time; never logged, echoed or put into a message.
   */
  token: string;
  /** Runs one backup. Reject when any target failed, so the run's status reads `failed`. */
  run: (request: BackupRunRequest) => Promise<R>;
  /** How many finished runs `GET <path>/<runId>` remembers; the oldest go first. @default 100 */
  maxHistory?: number | undefined;
  /** The clock of `startedAt`/`finishedAt`. @default systemClock */
  clock?: Clock | undefined;
  /** The route: `POST <path>` starts a run, `GET <path>/<runId>` reads one. @default '/backup' */
  path?: string | undefined;
  /** Target names a request may ask for; undefined accepts any name of letters, digits, `._-`. */
  targets?: readonly string[] | undefined;
  /** How long `close()` waits for an aborted run to settle: ms, or `'30s'`. @default '30s' */
  closeTimeout?: Duration | undefined;
}

/** The HTTP trigger of backups: one run at a time, guarded by a token. */
export interface BackupTrigger<R = unknown> {
  /**
   * A node:http listener; never throws. As Express or Connect middleware (`app.use(handler)`),
   * requests outside its path go to `next()`; without `next` they get 404.
   */
  handler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** The same routes for web-standard servers (Hono, Bun, Deno). */
  fetch(request: Request): Promise<Response>;
  /** The run going on now, if any. */
  current(): BackupRunState<R> | undefined;
  /** A run by id, while it is in the history. */
  get(runId: string): BackupRunState<R> | undefined;
  /** Refuses new runs (503), aborts the running one and waits for it up to `closeTimeout`. */
  close(): Promise<void>;
}

/** A framework-free answer. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The client went away mid-body: nothing to answer, the socket is dropped. */
  drop?: boolean;
  /** Not one of the trigger's paths: middleware hands it on. */
  elsewhere?: boolean;
}

type Body = { ok: true; bytes: Buffer } | { ok: false; why: 'too-large' | 'timeout' | 'aborted' };

/** What the routes need of a request, whatever server it came through. */
interface RequestView {
  method: string;
  /** The request target: origin-form (`/backup?x`) or absolute-form (`http://h/backup`). */
  target: string;
  header(name: string): string | undefined;
  readBody(limit: number, timeoutMs: number): Promise<Body>;
}

const MAX_BODY = 4096;
const BODY_TIMEOUT_MS = 10_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;
const JSON_TYPE = 'application/json; charset=utf-8';
const BODY_TYPES =
  /^(?:application\/(?:[\w.+-]+\+)?json|text\/plain|application\/x-www-form-urlencoded)\s*(?:;|$)/i;

const check = optionChecks((m) => invalidOption(m));
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

function answer(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  const text = `${JSON.stringify(body)}\n`;
  return {
    status,
    headers: {
      'content-type': JSON_TYPE,
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
    body: text,
  };
}
const fail = (status: number, error: string, headers?: Record<string, string>) =>
  answer(status, { error }, headers);

/** The path of a request target, or undefined when it is neither origin- nor absolute-form. */
function pathOf(target: string): string | undefined {
  if (target.startsWith('/') && !target.startsWith('//')) {
    const end = target.search(/[?#]/);
    return end === -1 ? target : target.slice(0, end);
  }
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

function resolveOptions<R>(options: BackupTriggerOptions<R>) {
  const o = check.object(options, 'options');
  // The token is checked by hand: the shared checks would echo part of it.
  if (typeof o.token !== 'string' || o.token.length < 32) {
    throw invalidOption(
      '`token` must be a string of at least 32 characters: `openssl rand -hex 32`',
    );
  }
  const run = check.func<BackupTriggerOptions<R>['run']>(o.run, 'run');
  if (!run) throw invalidOption('`run` must be a function ({ target, tag, signal }) => Promise');
  const clock = o.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw invalidOption('`clock` must be { now(): number }');
  const path = o.path ?? '/backup';
  if (typeof path !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
    throw invalidOption(
      "`path` must be an absolute path without a trailing slash, such as '/backup'",
    );
  }
  if (
    o.targets !== undefined &&
    (!Array.isArray(o.targets) || !o.targets.every((t) => typeof t === 'string' && NAME.test(t)))
  ) {
    throw invalidOption('`targets` must be an array of names (letters, digits, `.`, `_`, `-`)');
  }
  return {
    tokenDigest: sha256(o.token),
    token: o.token,
    run,
    clock,
    path,
    targets: o.targets,
    maxHistory: check.integer(o.maxHistory, 'maxHistory', 100, { min: 1, max: 100_000 }),
    closeTimeoutMs: check.duration(o.closeTimeout, 'closeTimeout', '30s', { min: 0 }),
  };
}

/** Decodes and validates the POST body: `{}` or `{ target?, tag? }`. */
function parseBody(
  bytes: Buffer,
  contentType: string | undefined,
  targets: readonly string[] | undefined,
): { target?: string; tag?: string } | Answer {
  const text = bytes.toString('utf8').trim();
  if (text === '') return {};
  // What curl -d and fetch(string) send too: the body is parsed as JSON whatever it is labelled.
  if (contentType !== undefined && !BODY_TYPES.test(contentType.trim())) {
    return fail(415, 'the body must be JSON: send Content-Type: application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return fail(400, 'the body is not JSON: send {} or { "target": "...", "tag": "..." }');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail(400, 'the body must be a JSON object: { "target"?: string, "tag"?: string }');
  }
  const fields = body as Record<string, unknown>;
  if (Object.keys(fields).some((k) => k !== 'target' && k !== 'tag')) {
    return fail(400, 'the body may hold only "target" and "tag"');
  }
  const { target, tag } = fields;
  if (target !== undefined) {
    if (
      typeof target !== 'string' ||
      !NAME.test(target) ||
      (targets && !targets.includes(target))
    ) {
      return fail(
        400,
        targets
          ? `"target" must be one of ${targets.map((t) => `"${t}"`).join(', ')}`
          : '"target" must be a name of letters, digits, ".", "_" and "-"',
      );
    }
  }
  if (tag !== undefined && (typeof tag !== 'string' || !NAME.test(tag))) {
    return fail(400, '"tag" must be a name of letters, digits, ".", "_" and "-" (at most 63)');
  }
  return {
    ...(target === undefined ? {} : { target: target as string }),
    ...(tag === undefined ? {} : { tag: tag as string }),
  };
}

/**
 * An HTTP trigger for backups: `POST /backup` with `X-Backup-Token` (and an optional JSON body
 * `{ target?, tag? }` of at most 4 KiB) starts `run` and answers 202 `{ runId, status }` with a
 * `Location`; a POST while a run goes on gets 409 with the running id; `GET /backup/<runId>`
 * (token needed too) answers the run's {@link BackupRunState}. A wrong or missing token is 401,
 * whichever route; an unknown run or path 404; another method 405 with `Allow`; a request target
 * that is no URL 400. Nothing throws out of the listener.
 *
 * Throws `ERR_BACKUP_INVALID_OPTION` for a token shorter than 32 characters (never echoed), a
 * missing `run`, or another malformed option.
 */
export function createBackupTrigger<R = unknown>(
  options: BackupTriggerOptions<R>,
): BackupTrigger<R> {
  const o = resolveOptions(options);
  const history = new Map<string, BackupRunState<R>>();
  let running:
    | { state: BackupRunState<R>; controller: AbortController; done: Promise<void> }
    | undefined;
  let closing: Promise<void> | undefined;

  const copy = (s: BackupRunState<R> | undefined) => (s ? structuredClone(s) : undefined);

  function authorized(given: string | undefined): boolean {
    // Both sides hashed: equal lengths for timingSafeEqual, and no length leaked.
    return timingSafeEqual(sha256(given ?? ''), o.tokenDigest) && given !== undefined;
  }

  function remember(state: BackupRunState<R>): void {
    history.set(state.runId, state);
    for (const [id, s] of history) {
      if (history.size <= o.maxHistory) break;
      if (s.status !== 'running') history.delete(id);
    }
  }

  function settle(
    state: BackupRunState<R>,
    started: number,
    outcome: { result?: R; error?: unknown },
  ) {
    const ended = o.clock.now();
    state.finishedAt = new Date(ended).toISOString();
    state.durationMs = Math.max(0, ended - started);
    if ('error' in outcome) {
      const err = outcome.error as { code?: unknown } | undefined;
      const code =
        typeof err?.code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(err.code)
          ? err.code
          : 'ERR_BACKUP_RUN_FAILED';
      const message = scrubString(describeError(outcome.error, 500), {
        mode: 'reason',
        secrets: [o.token],
      });
      state.status = 'failed';
      state.error = { code, message };
      return;
    }
    state.status = 'succeeded';
    try {
      // Only what the status route can send back is kept.
      if (outcome.result !== undefined) state.result = JSON.parse(JSON.stringify(outcome.result));
    } catch {
      // A result that is not JSON (a cycle, a BigInt) is left out of the status.
    }
  }

  function start(request: { target?: string; tag?: string }): BackupRunState<R> {
    const controller = new AbortController();
    const started = o.clock.now();
    const state: BackupRunState<R> = {
      runId: randomUUID(),
      status: 'running',
      ...request,
      startedAt: new Date(started).toISOString(),
    };
    let promise: Promise<R>;
    try {
      promise = Promise.resolve(
        o.run({ target: request.target, tag: request.tag, signal: controller.signal }),
      );
    } catch (err) {
      promise = Promise.reject(err);
    }
    const done = promise
      .then(
        (result) => settle(state, started, { result }),
        (error: unknown) => settle(state, started, { error }),
      )
      .finally(() => {
        if (running?.state === state) running = undefined;
      });
    running = { state, controller, done };
    remember(state);
    return state;
  }

  /** The 409 answer while a run goes on (read anew each time: a run may start meanwhile). */
  function busy(): Answer | undefined {
    const id = running?.state.runId;
    return id === undefined
      ? undefined
      : answer(409, { error: 'a backup is already running', runId: id });
  }

  async function trigger(req: RequestView): Promise<Answer> {
    if (closing) return fail(503, 'the backup trigger is closed', { 'retry-after': '60' });
    const conflict = busy();
    if (conflict) return conflict;
    const length = req.header('content-length');
    if (length !== undefined && Number(length) > MAX_BODY) {
      return fail(413, `the body must be at most ${MAX_BODY} bytes`, { connection: 'close' });
    }
    const body = await req.readBody(MAX_BODY, BODY_TIMEOUT_MS);
    if (!body.ok) {
      if (body.why === 'too-large')
        return fail(413, `the body must be at most ${MAX_BODY} bytes`, { connection: 'close' });
      if (body.why === 'timeout')
        return fail(408, 'the body took too long to arrive', { connection: 'close' });
      return { ...fail(400, 'the request was cut before its body ended'), drop: true };
    }
    const parsed = parseBody(body.bytes, req.header('content-type'), o.targets);
    if ('status' in parsed) return parsed;
    // Checked again: another request may have started a run while this body was read.
    if (closing) return fail(503, 'the backup trigger is closed', { 'retry-after': '60' });
    const late = busy();
    if (late) return late;
    const state = start(parsed);
    return answer(
      202,
      { runId: state.runId, status: state.status },
      { location: `${o.path}/${state.runId}` },
    );
  }

  async function respond(req: RequestView): Promise<Answer> {
    const path = pathOf(req.target);
    if (path === undefined) return fail(400, 'the request target is not a path');
    let runId: string | undefined;
    if (path === o.path) {
      if (req.method !== 'POST') return fail(405, 'use POST to start a backup', { allow: 'POST' });
    } else if (path.startsWith(`${o.path}/`) && RUN_ID.test(path.slice(o.path.length + 1))) {
      runId = path.slice(o.path.length + 1);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return fail(405, 'use GET to read a run', { allow: 'GET, HEAD' });
      }
    } else {
      return { ...fail(404, 'not found'), elsewhere: true };
    }
    const extra: Record<string, string> =
      req.method === 'POST' && req.header('content-length') !== '0' ? { connection: 'close' } : {};
    if (!authorized(req.header('x-backup-token'))) return fail(401, 'unauthorized', extra);
    if (runId === undefined) return trigger(req);
    const state = history.get(runId);
    return state
      ? answer(200, state)
      : fail(404, 'no run with this id (it may have left the history)');
  }

  return {
    handler(req, res, next) {
      const write = (a: Answer) => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(a.status, a.headers).end(req.method === 'HEAD' ? undefined : a.body);
      };
      respond({
        method: req.method ?? 'GET',
        target: req.url ?? '',
        header: (name) => {
          const v = req.headers[name];
          return Array.isArray(v) ? v.join(', ') : v;
        },
        readBody: (limit, timeoutMs) => readNodeBody(req, limit, timeoutMs),
      }).then(
        (a) => {
          if (a.drop) res.destroy();
          else if (a.elsewhere && typeof next === 'function') next();
          else write(a);
        },
        () => write(fail(500, 'internal error')),
      );
    },

    async fetch(request) {
      const a = await respond({
        method: request.method,
        target: request.url,
        header: (name) => request.headers.get(name) ?? undefined,
        readBody: (limit, timeoutMs) => readWebBody(request, limit, timeoutMs),
      }).catch(() => fail(500, 'internal error'));
      return new Response(request.method === 'HEAD' ? null : a.body, {
        status: a.status,
        headers: a.headers,
      });
    },

    current: () => copy(running?.state),
    get: (runId) => copy(typeof runId === 'string' ? history.get(runId) : undefined),

    close() {
      closing ??= (async () => {
        const r = running;
        if (!r) return;
        r.controller.abort(new AbortedError('the backup trigger was closed', 'The backup run'));
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          r.done,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, o.closeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

/** Reads a node:http body up to `limit` bytes and `timeoutMs`. */
function readNodeBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (body: Body) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onCut).off('close', onCut);
      if (!body.ok) req.pause();
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish({ ok: false, why: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, bytes: Buffer.concat(chunks) });
    const onCut = () => finish({ ok: false, why: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, why: 'timeout' }), timeoutMs);
    timer.unref();
    if (req.complete && req.readableEnded) return finish({ ok: true, bytes: Buffer.alloc(0) });
    req.on('data', onData).on('end', onEnd).on('error', onCut).on('close', onCut);
  });
}

/** Reads a web Request's body up to `limit` bytes and `timeoutMs`. */
async function readWebBody(request: Request, limit: number, timeoutMs: number): Promise<Body> {
  if (!request.body) return { ok: true, bytes: Buffer.alloc(0) };
  const reader = request.body.getReader();
  try {
    return await withTimeout(
      async () => {
        const chunks: Uint8Array[] = [];
        let size = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return { ok: true, bytes: Buffer.concat(chunks) } as const;
          size += value.byteLength;
          if (size > limit) return { ok: false, why: 'too-large' } as const;
          chunks.push(value);
        }
      },
      { timeoutMs },
    );
  } catch (err) {
    return {
      ok: false,
      why: (err as { code?: string }).code === 'ERR_TIMEOUT' ? 'timeout' : 'aborted',
    };
  } finally {
    reader.cancel().catch(() => {});
  }
}
