import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One envelope item: its header and its parsed payload. */
export interface EnvelopeItem {
  header: Record<string, unknown>;
  payload: unknown;
}

/** What a local Sentry stand-in received: envelopes, parsed into items. */
export interface SentrySink {
  /** A DSN that points at this sink. */
  readonly dsn: string;
  readonly envelopes: { header: Record<string, unknown>; items: EnvelopeItem[] }[];
  /** Answer every request with this status from now on (e.g. 500, 429), or go back to 200. */
  respondWith(status: number): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

function parseEnvelope(text: string) {
  const lines = text.split('\n');
  const header = JSON.parse(lines.shift() ?? '{}') as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (lines.length > 1 || (lines.length === 1 && lines[0] !== '')) {
    const itemHeader = JSON.parse(lines.shift() ?? '{}') as Record<string, unknown>;
    const body = lines.shift() ?? '';
    let payload: unknown = body;
    try {
      payload = JSON.parse(body);
    } catch {}
    items.push({ header: itemHeader, payload });
  }
  return { header, items };
}

/** Starts an HTTP server on loopback that accepts Sentry envelopes the way sentry.io does. */
export function startSentrySink(): Promise<SentrySink> {
  const envelopes: SentrySink['envelopes'] = [];
  let status = 200;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (status === 200) envelopes.push(parseEnvelope(body.toString('utf8')));
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      resolve({
        dsn: `http://publickey@127.0.0.1:${port}/1`,
        envelopes,
        respondWith: (s) => {
          status = s;
        },
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
