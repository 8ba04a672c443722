import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth } from '@org/health';

const health = createHealth({
  checks: { database: async () => undefined },
  quick: ['database'],
  cache: 0,
});
const server = createServer(health.handler());
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const get = () =>
  new Promise<void>((resolve, reject) => {
    request(url, { agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    })
      .on('error', reject)
      .end();
  });
const t = performance.now();
let n = 0;
while (performance.now() - t < 6000) {
  await Promise.all(Array.from({ length: 64 }, get));
  n += 64;
}
console.log('req/s', Math.round(n / 6));
agent.destroy();
server.closeAllConnections();
server.close();
