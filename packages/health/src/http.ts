import type { IncomingMessage, ServerResponse } from 'node:http';
import { toIetf, toSimple } from './format.js';
import type { Lifecycle } from './lifecycle.js';
import type { HealthReport } from './types.js';

/** The probe routes and their paths. */
export interface HealthPaths {
  /** Quick report for the load balancer. @default '/health' */
  quick?: string | undefined;
  /** Full report, every check with its latency. @default '/health/full' */
  full?: string | undefined;
  /** Liveness: 200 while the process answers. @default '/livez' */
  live?: string | undefined;
  /** Readiness: 503 while starting, draining, or when the quick report is unhealthy. @default '/readyz' */
  ready?: string | undefined;
  /** Startup: 503 until the service is marked ready once. @default '/startupz' */
  startup?: string | undefined;
}

/** Options of the HTTP adapters. */
export interface HandlerOptions {
  /** Route paths; set one to `''` to leave it out (undefined keeps its default). */
  paths?: HealthPaths | undefined;
}

/** A framework-free answer: what every adapter writes out. */
export interface HealthAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Route = keyof HealthPaths;
type Format = 'simple' | 'full' | 'ietf';

/** Minimal shape of a Fastify instance: only `route()` is used, so Fastify is never imported. */
export interface FastifyLike {
  route(options: {
    method: string;
    url: string;
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
  }): unknown;
}
/** Minimal shape of a Fastify request. */
export interface FastifyRequestLike {
  url: string;
  headers: Record<string, string | string[] | undefined>;
}
/** Minimal shape of a Fastify reply. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/** HTTP surface of a Health instance. */
export interface HealthHttp {
  /** Answers one probe request, framework-free; `undefined` when `path` is not a probe route. */
  respond(
    path: string,
    request?: { accept?: string | undefined; query?: URLSearchParams | undefined },
    options?: HandlerOptions,
  ): Promise<HealthAnswer | undefined>;
  /** A node:http request listener; non-probe paths get 404 (or go to `fallback`). */
  handler(
    options?: HandlerOptions & {
      fallback?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
    },
  ): (req: IncomingMessage, res: ServerResponse) => void;
  /** Express/Connect middleware: probe routes are answered, anything else goes to `next()`. */
  express(
    options?: HandlerOptions,
  ): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
  /** A Fastify plugin: `app.register(health.fastify)`; registers GET routes for each probe. */
  fastify(instance: FastifyLike, options?: HandlerOptions): Promise<void>;
  /** Web-standard handler (Hono, Bun, Deno): 404 for non-probe paths. */
  fetchHandler(request: Request, options?: HandlerOptions): Promise<Response>;
}

const DEFAULT_PATHS: Record<Route, string> = {
  quick: '/health',
  full: '/health/full',
  live: '/livez',
  ready: '/readyz',
  startup: '/startupz',
};

/** The paths of `options`, an undefined one keeping its default. */
function pathsOf(options: HandlerOptions | undefined): [Route, string][] {
  return (Object.keys(DEFAULT_PATHS) as Route[]).map((r) => [
    r,
    options?.paths?.[r] ?? DEFAULT_PATHS[r],
  ]);
}

const JSON_TYPE = 'application/json; charset=utf-8';
const IETF_TYPE = 'application/health+json';

function pickFormat(
  route: Route,
  accept: string | undefined,
  query: URLSearchParams | undefined,
): Format {
  const asked = query?.get('format');
  if (asked === 'simple' || asked === 'full' || asked === 'ietf') return asked;
  if (accept?.includes(IETF_TYPE)) return 'ietf';
  return route === 'full' ? 'full' : 'simple';
}

function answer(status: number, body: unknown, type = JSON_TYPE): HealthAnswer {
  const text = `${JSON.stringify(body)}\n`;
  return {
    status,
    headers: {
      'content-type': type,
      'cache-control': 'no-store',
      // HEAD gets the headers of GET, Content-Length included (RFC 9110 §9.3.2).
      'content-length': String(Buffer.byteLength(text)),
    },
    body: text,
  };
}

/** Whether two reports have the same overall status and the same checks with the same statuses. */
function sameVerdicts(a: HealthReport, b: HealthReport): boolean {
  if (a.status !== b.status) return false;
  let count = 0;
  for (const name in b.checks) {
    if (a.checks[name]?.status !== b.checks[name]?.status) return false;
    count++;
  }
  for (const _ in a.checks) count--;
  return count === 0;
}

/** Called with the report, or with the error a run threw as it started. */
export type ReportCallback = (error: unknown, report?: HealthReport) => void;

export function createHttp(deps: {
  quick: () => Promise<HealthReport>;
  full: () => Promise<HealthReport>;
  /** The cached report of a kind while it is fresh, without a promise. */
  fresh: (kind: 'quick' | 'full') => HealthReport | undefined;
  /** `quick()`/`full()` through a callback (see `CachedReport.subscribe`). */
  subscribe: (kind: 'quick' | 'full', cb: ReportCallback) => void;
  lifecycle: Lifecycle;
  ietfExtra: { releaseId?: string; description?: string };
}): HealthHttp {
  const { lifecycle } = deps;

  // A cached report is rendered once per format, not once per probe. The memo holds the last
  // two reports (the quick and the full one, say) by identity: no WeakMap entry per report,
  // whose ephemerons cost the collector on every uncached probe.
  type Forms = Partial<Record<Format, HealthAnswer>>;
  let memoA: HealthReport | undefined;
  let formsA: Forms = {};
  let memoB: HealthReport | undefined;
  let formsB: Forms = {};
  function formsOf(report: HealthReport): Forms {
    if (report === memoA) return formsA;
    if (report !== memoB) {
      memoB = report;
      formsB = {};
    }
    // The most recent report moves to the first slot.
    const report0 = memoA;
    const forms0 = formsA;
    memoA = memoB;
    formsA = formsB;
    memoB = report0;
    formsB = forms0;
    return formsA;
  }
  // The simple answer names only verdicts: a new report with the verdicts of the last one
  // (every uncached probe of a healthy service) gets the same answer, not a new rendering.
  let lastSimple: { report: HealthReport; answer: HealthAnswer } | undefined;
  function render(report: HealthReport, format: Format): HealthAnswer {
    const forms = formsOf(report);
    const hit = forms[format];
    if (hit) return hit;
    if (
      format === 'simple' &&
      lastSimple !== undefined &&
      sameVerdicts(lastSimple.report, report)
    ) {
      forms.simple = lastSimple.answer;
      return lastSimple.answer;
    }
    const status = report.status === 'unhealthy' ? 503 : 200;
    const a =
      format === 'ietf'
        ? answer(status, toIetf(report, deps.ietfExtra), IETF_TYPE)
        : answer(status, format === 'full' ? report : toSimple(report));
    forms[format] = a;
    if (format === 'simple') lastSimple = { report, answer: a };
    return a;
  }

  /**
   * The answer to a route when it can be given now (a cached report, a probe of the lifecycle),
   * else the kind of report to wait for. Not async: a cached report is answered in the same
   * turn, with no promise in between.
   */
  function decide(r: Route, format: Format): HealthAnswer | 'quick' | 'full' {
    const state = lifecycle.state;
    const refusing = state === 'draining' || state === 'stopped';
    switch (r) {
      case 'live':
        return answer(200, { status: 'ok', state });
      case 'startup':
        return answer(state === 'starting' ? 503 : 200, {
          status: state === 'starting' ? 'starting' : 'ok',
          state,
        });
      case 'ready': {
        if (state !== 'ready') return answer(503, { status: 'unhealthy', state });
        const cached = deps.fresh('quick');
        return cached ? render(cached, format) : 'quick';
      }
      default: {
        // The load balancer's probe must not send traffic to an instance still starting.
        if (refusing || (r === 'quick' && state === 'starting')) {
          return format === 'ietf'
            ? answer(503, { status: 'fail', output: state, checks: {} }, IETF_TYPE)
            : answer(503, { status: 'unhealthy', state });
        }
        const kind = r === 'full' ? 'full' : 'quick';
        const cached = deps.fresh(kind);
        return cached ? render(cached, format) : kind;
      }
    }
  }

  function route(r: Route, format: Format): HealthAnswer | Promise<HealthAnswer> {
    const d = decide(r, format);
    if (typeof d !== 'string') return d;
    return (d === 'full' ? deps.full() : deps.quick()).then((report) => render(report, format));
  }

  const routeTables = new WeakMap<HandlerOptions, Map<string, Route>>();
  const defaultTable = table(undefined);
  function table(options: HandlerOptions | undefined): Map<string, Route> {
    const t = new Map<string, Route>();
    for (const [r, p] of pathsOf(options)) if (p) t.set(p, r);
    return t;
  }
  function match(path: string, options: HandlerOptions | undefined): Route | undefined {
    if (!options) return defaultTable.get(path);
    let t = routeTables.get(options);
    if (!t) {
      t = table(options);
      routeTables.set(options, t);
    }
    return t.get(path);
  }

  /** Splits a request target without building a URL (the probe path is hot). */
  function split(target: string | undefined): [string, URLSearchParams | undefined] {
    const raw = target ?? '/';
    const q = raw.indexOf('?');
    return q === -1 ? [raw, undefined] : [raw.slice(0, q), new URLSearchParams(raw.slice(q + 1))];
  }

  /**
   * The request's `Accept`, read from `rawHeaders`: `req.headers` is built on first access, a
   * cost a probe need not pay for one header (the ones Node joins, such as `Accept`, joined the
   * same way).
   */
  function acceptOf(req: IncomingMessage): string | undefined {
    const raw = req.rawHeaders;
    if (raw === undefined) return req.headers?.accept;
    let accept: string | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length === 6 && name.toLowerCase() === 'accept') {
        const value = raw[i + 1] as string;
        accept = accept === undefined ? value : `${accept}, ${value}`;
      }
    }
    return accept;
  }

  /** Probe routes answer GET and HEAD; any other method gets 405 with `Allow`. */
  const readOnly = (method: string | undefined) =>
    method === undefined || method === 'GET' || method === 'HEAD';
  const NOT_ALLOWED: HealthAnswer = {
    status: 405,
    headers: { 'content-type': JSON_TYPE, allow: 'GET, HEAD', 'cache-control': 'no-store' },
    body: '{"error":"method not allowed"}\n',
  };

  /** The answer to a probe path: at once when its report is cached; undefined for other paths. */
  function answerOf(
    path: string,
    accept: string | undefined,
    query: URLSearchParams | undefined,
    options: HandlerOptions | undefined,
  ): HealthAnswer | Promise<HealthAnswer> | undefined {
    const r = match(path, options);
    if (r === undefined) return undefined;
    return route(r, pickFormat(r, accept, query));
  }

  const http: HealthHttp = {
    async respond(path, request = {}, options) {
      return answerOf(path, request.accept, request.query, options);
    },

    handler(options) {
      return (req, res) => {
        // Never `new URL(req.url)`: it throws on targets such as `//`, out of the listener.
        const [path, query] = split(req.url);
        if (!readOnly(req.method) && match(path, options) !== undefined) {
          res.writeHead(NOT_ALLOWED.status, NOT_ALLOWED.headers).end(NOT_ALLOWED.body);
          return;
        }
        const write = (a: HealthAnswer | undefined) => {
          if (!a) {
            if (options?.fallback) return options.fallback(req, res);
            return void res
              .writeHead(404, { 'content-type': JSON_TYPE })
              .end('{"error":"not found"}\n');
          }
          res.writeHead(a.status, a.headers).end(req.method === 'HEAD' ? undefined : a.body);
        };
        const failed = () => void res.writeHead(500).end();
        const r = match(path, options);
        if (r === undefined) return write(undefined);
        const format = pickFormat(r, acceptOf(req), query);
        let d: ReturnType<typeof decide>;
        try {
          d = decide(r, format);
        } catch {
          return failed();
        }
        if (typeof d !== 'string') return write(d);
        // An uncached report: wait for it through a callback, with no promise per probe.
        deps.subscribe(d, (error, report) => {
          try {
            if (report === undefined) throw error;
            write(render(report, format));
          } catch {
            if (!res.headersSent) failed();
            else res.destroy();
          }
        });
      };
    },

    express(options) {
      return (req, res, next) => {
        const [path, query] = split(req.url);
        if (!readOnly(req.method) && match(path, options) !== undefined) {
          res.writeHead(NOT_ALLOWED.status, NOT_ALLOWED.headers).end(NOT_ALLOWED.body);
          return;
        }
        http.respond(path, { accept: req.headers.accept, query }, options).then((a) => {
          if (!a) return next();
          res.writeHead(a.status, a.headers).end(req.method === 'HEAD' ? undefined : a.body);
        }, next);
      };
    },

    async fastify(instance, options) {
      for (const [r, p] of pathsOf(options)) {
        if (!p) continue;
        instance.route({
          method: 'GET',
          url: p,
          handler: async (req, reply) => {
            const [, query] = split(req.url);
            const accept = req.headers.accept;
            const a = await route(
              r,
              pickFormat(r, typeof accept === 'string' ? accept : undefined, query),
            );
            reply.code(a.status);
            for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
            return reply.send(a.body);
          },
        });
      }
    },

    async fetchHandler(request, options) {
      const url = new URL(request.url);
      if (!readOnly(request.method) && match(url.pathname, options) !== undefined) {
        return new Response(NOT_ALLOWED.body, {
          status: NOT_ALLOWED.status,
          headers: NOT_ALLOWED.headers,
        });
      }
      const a = await http.respond(
        url.pathname,
        { accept: request.headers.get('accept') ?? undefined, query: url.searchParams },
        options,
      );
      if (!a)
        return new Response('{"error":"not found"}\n', {
          status: 404,
          headers: { 'content-type': JSON_TYPE },
        });
      return new Response(request.method === 'HEAD' ? null : a.body, {
        status: a.status,
        headers: a.headers,
      });
    },
  };
  return http;
}
