import type { FetchedSecret, ProviderRequest, SecretsProvider } from '@org/secrets';

/** An in-memory provider whose calls are counted and whose failures are switched on and off. */
export function fakeProvider(initial: Record<string, string | Uint8Array> = {}) {
  const values = new Map<string, FetchedSecret>();
  let n = 0;
  for (const [k, v] of Object.entries(initial)) values.set(k, { value: v, versionId: `v${++n}` });
  const state = {
    calls: 0,
    batchCalls: 0,
    failing: false as boolean | Error,
    /** A pending call resolves only when this is resolved (slow provider). */
    gate: undefined as Promise<void> | undefined,
    closed: 0,
  };
  const provider: SecretsProvider = {
    kind: 'fake',
    async get(request: ProviderRequest) {
      state.calls += 1;
      if (state.gate) await state.gate;
      request.signal.throwIfAborted();
      if (state.failing)
        throw state.failing === true ? new Error('connect ECONNREFUSED') : state.failing;
      return values.get(request.name);
    },
    async getMany(requests) {
      state.batchCalls += 1;
      if (state.failing) throw new Error('connect ECONNREFUSED');
      const out = new Map<string, FetchedSecret>();
      for (const r of requests) {
        const v = values.get(r.name);
        if (v) out.set(r.name, v);
      }
      return out;
    },
    describe: (r) => `fake ${r.name}`,
    close() {
      state.closed += 1;
    },
  };
  return {
    provider,
    state,
    set(name: string, value: string | Uint8Array) {
      values.set(name, { value, versionId: `v${++n}` });
    },
    remove(name: string) {
      values.delete(name);
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}
