import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { HealthCheck, ShutdownOptions } from '@org/health';
import type { SharedState } from './env.js';
import type { StatusBoard } from './status/board.js';
import type { ServiceTelemetry } from './telemetry.js';

/** A route handler: may answer with a JSON body, or write to `res` itself and return nothing. */
export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => Promise<unknown> | unknown;

/** Anything that reports its own health the way @org/cache and @org/storage instances do. */
export interface Dependency {
  health(options?: {
    signal?: AbortSignal;
  }): Promise<{ available: boolean; latencyMs: number; backend: string; error?: string }>;
}

/** Options of `createService`: graceful shutdown's bounds, and what may be turned off. */
export interface ServiceOptions extends ShutdownOptions {
  /**
   * Rate-limit every route (the `rate-limit` feature's tiers). Turn it off only where something
   * in front (a gateway) limits already. @default true
   */
  rateLimit?: boolean | undefined;
  /**
   * Names this instance in the `x-instance` header of every answer and on the status page.
   * Letters, digits and `_.:@-`, at most 128. @default `<hostname>:<pid>` (main.ts passes
   * `INSTANCE_ID`, or `<hostname>:<port>`)
   */
  instanceId?: string | undefined;
}

/** Releases what a feature holds; its signal aborts when its time in the shutdown is up. */
export type Closer = (signal: AbortSignal) => Promise<void> | void;

/** A refusal a route gives from a request's headers alone, before it reads the body. */
export interface Refusal {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * Looks at a request's headers (`Content-Length`, the server's load) and returns a refusal, or
 * `undefined` to let it through. Run for `Expect: 100-continue` requests before the client is
 * told to send its body.
 */
export type Precheck = (req: IncomingMessage, url: URL) => Refusal | undefined;

/** What runs the service's graceful shutdown: an `@org/health` instance. */
export interface GracefulShutdown {
  attach(server: Server): () => void;
  onShutdown(fn: Closer): () => void;
  shutdown(): Promise<boolean>;
}

/** What each feature module adds to the service: its routes, and what to close on shutdown. */
export interface App {
  route(method: string, path: string, handler: Handler): void;
  /** Runs `guard` before every route; it returns false when it has answered the request itself. */
  use(guard: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean): void;
  /**
   * Runs `fn` at shutdown, once in-flight requests have drained: closers run in the reverse of
   * their registration (the features mounted first close last), each within its own bound.
   */
  onClose(fn: Closer): void;
  /** How the service was configured (`createService` options). */
  readonly options: ServiceOptions;
  /** This instance's id (`x-instance` on every answer). */
  readonly instanceId: string;
  /** Where the state instances share lives: Redis (`REDIS_URL`, `REDIS_PREFIX`) or memory. */
  readonly shared: SharedState;
  /** Hands graceful shutdown to `lifecycle` (the health feature does, with its instance). */
  runsShutdown(lifecycle: GracefulShutdown): void;
  /** Registers a dependency for the health feature's full report (mounted last). */
  dependency(name: string, target: Dependency): void;
  readonly dependencies: ReadonlyMap<string, Dependency>;
  /** Registers a check of its own for the health feature's full report (mounted last). */
  check(name: string, check: HealthCheck): void;
  readonly checks: ReadonlyMap<string, HealthCheck>;
  /** Registers what `method path` refuses from the headers alone (see {@link Precheck}). */
  precheck(method: string, path: string, check: Precheck): void;
  /** The OpenTelemetry SDK (`src/telemetry.ts`), or `undefined` with `OTEL_SDK_DISABLED=true`. */
  readonly telemetry: ServiceTelemetry | undefined;
  /** What the features show on `GET /status` besides the metrics. */
  readonly status: StatusBoard;
}

/** A feature of the example: one file per @org package, mounted by main.ts. */
export type Feature = (app: App) => Promise<void> | void;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(`${text}\n`);
}

/** A request body that is not what the route takes: answered 400 (or 413 when too large). */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/**
 * The JSON object a request carries, read whole (bounded by `maxBytes`) before it is decoded, so
 * a UTF-8 character split across two chunks is not garbled. An empty body is `{}`; anything
 * else that is not a JSON object is a {@link BadRequest}.
 */
export async function readJson(
  req: IncomingMessage,
  maxBytes = 16_384,
): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BadRequest(`the body is larger than ${maxBytes} bytes`, 413);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadRequest('the body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
