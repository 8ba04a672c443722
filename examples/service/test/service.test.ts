import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

let base = '';
let close: () => Promise<void>;
beforeAll(async () => {
  const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
  await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
  close = service.close;
});
afterAll(() => close());

describe('example service', () => {
  it('lists its routes', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { routes: string[] };
    expect(body.routes).toContain('GET /upstream');
  });

  it('the breaker opens when the upstream fails, answers with the fallback, and shows its state', async () => {
    await fetch(`${base}/upstream/chaos?failRate=0`, { method: 'POST' });
    const ok = (await (await fetch(`${base}/upstream`)).json()) as { result: { answer: number } };
    expect(ok.result.answer).toBe(42);
    await fetch(`${base}/upstream/chaos?failRate=1`, { method: 'POST' });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await (await fetch(`${base}/upstream`)).json());
    expect(answers.at(-1)).toMatchObject({
      result: { fallback: true, reason: 'breaker open' },
      breaker: 'open',
    });
    const list = (await (await fetch(`${base}/breakers`)).json()) as {
      name: string;
      state: string;
    }[];
    expect(list.find((b) => b.name === 'flaky-upstream')).toMatchObject({ state: 'open' });
  });
});
