import { createServer, type IncomingMessage, request, type Server } from 'node:http';

/** What the proxy does with one request: forward it, fail it with a status, or never answer. */
export type Verdict = 'forward' | 500 | 503 | 'hang' | 'cut';

/** A loopback HTTP proxy in front of an S3 server that can fail or stall requests. */
export interface FaultProxy {
  endpoint: string;
  /** Decides each request's fate; the default forwards everything. */
  rule: (req: IncomingMessage, n: number) => Verdict;
  /** Requests seen, and how many were failed. */
  readonly seen: number;
  readonly failed: number;
  close(): Promise<void>;
}

const XML: Record<number, string> = {
  500: '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>',
  503: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
};

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  let seen = 0;
  let failed = 0;
  const proxy: FaultProxy = {
    endpoint: '',
    rule: () => 'forward',
    get seen() {
      return seen;
    },
    get failed() {
      return failed;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    const verdict = proxy.rule(req, ++seen);
    if (verdict === 'hang') return;
    if (verdict === 500 || verdict === 503) {
      failed++;
      req.resume();
      res.writeHead(verdict, { 'content-type': 'application/xml' }).end(XML[verdict]);
      return;
    }
    const up = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        if (verdict !== 'cut') return void upRes.pipe(res);
        // Sends the first 64 KiB of the body, then drops the connection.
        upRes.once('data', (chunk: Buffer) => {
          res.write(chunk.subarray(0, 65536), () => res.socket?.destroy());
          upRes.destroy();
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  proxy.endpoint = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return proxy;
}
