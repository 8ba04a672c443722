import { createServer, type Server } from 'node:http';
import {
  type App,
  BadRequest,
  type Dependency,
  type Feature,
  type Handler,
  sendJson,
} from './app.js';
import { features } from './features/index.js';

/** Builds the example service with every feature mounted; `listen` is the caller's. */
export async function createService(): Promise<{ server: Server; close(): Promise<void> }> {
  const routes = new Map<string, Handler>();
  const closers: (() => Promise<void> | void)[] = [];
  const dependencies = new Map<string, Dependency>();
  const guards: Parameters<App['use']>[0][] = [];
  const app: App = {
    route: (method, path, handler) => routes.set(`${method} ${path}`, handler),
    use: (guard) => guards.push(guard),
    onClose: (fn) => closers.push(fn),
    dependency: (name, target) => dependencies.set(name, target),
    dependencies,
  };
  for (const feature of features as Feature[]) await feature(app);
  app.route('GET', '/', () => ({ routes: [...routes.keys()].sort() }));

  // Nothing a client sends may throw out of the listener: a target that is no URL is a 400.
  const server = createServer(async (req, res) => {
    try {
      const url = URL.canParse(req.url ?? '/', 'http://localhost')
        ? new URL(req.url ?? '/', 'http://localhost')
        : undefined;
      if (!url) return sendJson(res, 400, { error: 'the request target is not a valid URL' });
      for (const guard of guards) if (!(await guard(req, res))) return;
      const handler = routes.get(`${req.method} ${url.pathname}`);
      if (!handler) return sendJson(res, 404, { error: 'not found', see: 'GET /' });
      const body = await handler(req, res, url);
      if (!res.headersSent && body !== undefined) sendJson(res, 200, body);
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      if (err instanceof BadRequest) return sendJson(res, err.status, { error: err.message });
      const code = (err as { code?: string }).code;
      sendJson(res, 500, { error: (err as Error).message, code });
    }
  });
  return {
    server,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      for (const fn of closers.reverse()) await fn();
    },
  };
}
