import { createService } from './server.js';

const port = Number(process.env.PORT ?? 3000);
const service = await createService();
service.server.listen(port, '127.0.0.1', () => {
  console.log(
    `example service on http://127.0.0.1:${port}  (GET / lists the routes; Ctrl-C stops)`,
  );
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, async () => {
    await service.close();
    process.exit(0);
  });
}
