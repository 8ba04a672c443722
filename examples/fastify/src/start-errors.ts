// What a user gets wrong at start (a port taken, a PORT that is no port, a duration that does
// not parse) ends the process with one line on stderr that says what to change: no stack trace.

/** Writes `example-fastify: <message>` on stderr and exits 1. */
export function failStart(message: string): never {
  process.stderr.write(`example-fastify: ${message}\n`);
  process.exit(1);
}

/** The port of `PORT` (default 3000): a whole number from 0 (a free one) to 65535. */
export function portOf(raw: string | undefined): number {
  const text = raw?.trim() || '3000';
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65_535)) {
    failStart(
      `PORT must be a port number from 0 to 65535 (0 picks a free one); got "${text.slice(0, 40)}"`,
    );
  }
  return port;
}

/** The line for an error of building the app: its code (an SDK error's) and message. */
export function describeStartError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return `${code}${message.split('\n')[0]}`;
}

/** The line for a listen error: a port in use or reserved says what to set. */
export function describeListenError(err: unknown, host: string, port: number): string {
  const code = (err as { code?: unknown })?.code;
  if (code === 'EADDRINUSE') {
    return `port ${port} on ${host} is in use: stop what holds it, or set PORT to another port (0 picks a free one)`;
  }
  if (code === 'EACCES') {
    return `port ${port} on ${host} needs privileges: set PORT to a port above 1023`;
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return `HOST ${host} is not an address of this machine: set HOST (0.0.0.0 for every interface)`;
  }
  return `cannot listen on ${host}:${port}: ${describeStartError(err)}`;
}
