import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream';
import { invalidOption } from './errors.js';

/** An instance behind the proxy. */
export interface ProxyTarget {
  /** Named in the proxy's own answers (502, 504) and in `onFailure`. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** Why a request got the proxy's own answer instead of an instance's. */
export interface ProxyFailure {
  target: ProxyTarget;
  /** 502: the instance refused or dropped the connection; 504: it went quiet past `timeout`. */
  status: 502 | 504;
  /** The socket error's code (`ECONNREFUSED`, `ECONNRESET` …), or `ETIMEDOUT`. */
  code: string;
}

/** Options of {@link createRoundRobinProxy}. */
export interface RoundRobinProxyOptions {
  /** The instances, taken in turn, one request each. At least one. */
  targets: readonly ProxyTarget[];
  /**
   * Milliseconds the connection to an instance may stay idle (no response yet, or a body that
   * stalls) before the proxy gives the request up: a 504 when nothing was answered yet, a cut
   * connection otherwise. @default 30_000
   */
  timeout?: number | undefined;
  /** Called for each request the proxy answered itself (or cut off mid-answer). */
  onFailure?: ((failure: ProxyFailure) => void) | undefined;
}

// Hop-by-hop (RFC 9110 §7.6.1): they describe one connection, never forwarded. Node decodes a
// chunked body and re-frames what it sends, so `transfer-encoding` goes too.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'proxy-authorization',
  'proxy-authenticate',
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function checkTargets(targets: readonly ProxyTarget[]): void {
  if (!Array.isArray(targets) || targets.length === 0) {
    throw invalidOption('the proxy needs `targets`: at least one { id, host, port }');
  }
  for (const t of targets) {
    if (typeof t?.id !== 'string' || typeof t.host !== 'string') {
      throw invalidOption('each proxy target needs a string `id` and `host`');
    }
    if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65_535) {
      throw invalidOption(`proxy target ${t.id}: \`port\` must be an integer from 1 to 65535`);
    }
  }
}

/**
 * A round-robin HTTP proxy on `node:http` (no load balancer to install for a demo): each request
 * goes to the next instance, bodies stream both ways (nothing is buffered), `X-Forwarded-For`,
 * `-Proto` and `-Host` are set, hop-by-hop headers dropped, and `Expect: 100-continue` is passed
 * on (the client is told to continue only when the instance says so). An instance that refuses
 * the connection (it is down) gets its turn answered at once with a 502 naming it; one that
 * stays silent past `timeout`, with a 504. There are no health checks and no retries: a dead
 * instance keeps its turn, so that what the demo shows is plain. `listen` is the caller's.
 */
export function createRoundRobinProxy(options: RoundRobinProxyOptions): Server {
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('createRoundRobinProxy needs options: { targets, timeout? }');
  }
  const targets = [...options.targets];
  checkTargets(targets);
  const timeout = options.timeout ?? 30_000;
  if (!Number.isFinite(timeout) || timeout <= 0) {
    throw invalidOption('`timeout` must be a positive number of milliseconds');
  }
  let turn = 0;

  const forward = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean) => {
    const target = targets[turn++ % targets.length]!;
    const headers = endToEnd(req.headers);
    const peer = req.socket.remoteAddress ?? 'unknown';
    const before = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = before ? `${before}, ${peer}` : peer;
    headers['x-forwarded-proto'] = 'http';
    if (req.headers.host) headers['x-forwarded-host'] = req.headers.host;
    if (expectContinue) headers.expect = '100-continue';
    // A connection per request: an instance that died refuses the next one at once (no pooled
    // socket to find broken halfway), which is what a 502 here should mean.
    const upstream = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers,
      agent: false,
      timeout,
    });
    const giveUp = (status: 502 | 504, code: string) => {
      req.unpipe(upstream);
      req.resume(); // what is left of the body is read and dropped
      if (res.writableFinished) return; // answered in full already: nothing lost
      options.onFailure?.({ target, status, code });
      if (res.headersSent) return void res.destroy(); // cut off mid-body: the client sees it
      const body = `${JSON.stringify({
        error:
          status === 502
            ? `instance ${target.id} (${target.host}:${target.port}) is not answering`
            : `instance ${target.id} (${target.host}:${target.port}) did not answer within ${timeout} ms`,
        code,
      })}\n`;
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'x-proxy-target': target.id,
        connection: 'close',
      });
      res.end(body);
    };
    upstream.on('timeout', () => {
      upstream.destroy(Object.assign(new Error('the instance went quiet'), { code: 'ETIMEDOUT' }));
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'EPROTO';
      giveUp(code === 'ETIMEDOUT' ? 504 : 502, code);
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // A client gone mid-answer destroys `answer` (and so the connection to the instance).
      pipeline(answer, res, () => {});
    });
    if (expectContinue) {
      upstream.on('continue', () => {
        res.writeContinue();
        req.pipe(upstream);
      });
      upstream.flushHeaders();
    } else {
      req.pipe(upstream);
    }
    // The client left before the answer was complete: the instance's request is dropped too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  };

  const server = createServer((req, res) => forward(req, res, false));
  server.on('checkContinue', (req, res) => forward(req, res, true));
  return server;
}
