import { setTimeout as delay } from 'node:timers/promises';

/** A quote as the partner API returns it. */
export interface Quote {
  symbol: string;
  /** Price in cents. */
  price: number;
  currency: 'USD';
  /** When the upstream computed it (ISO 8601). */
  at: string;
}

/** The partner API failed (or was switched to fail); what the breaker counts. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(readonly status: number) {
    super(`the quotes upstream answered ${status}`);
  }
}

/**
 * The partner API the example calls, as a small function: a quote after `latencyMs`. Set
 * `failing` to make every call fail with a 503, as an outage would: the failure switch that
 * `POST /chaos/upstream` flips to open the breaker. In your app this is a `fetch` to the partner,
 * handed the same `signal`.
 */
export interface QuotesUpstream {
  failing: boolean;
  /** Calls that reached the upstream, failed ones included. */
  readonly calls: number;
  quote(symbol: string, signal: AbortSignal): Promise<Quote>;
}

export function createQuotesUpstream(latencyMs = 20): QuotesUpstream {
  let calls = 0;
  return {
    failing: false,
    get calls() {
      return calls;
    },
    async quote(symbol, signal) {
      calls++;
      await delay(latencyMs, undefined, { signal });
      if (this.failing) throw new UpstreamError(503);
      // A made-up price that moves with the clock, so a cached answer is visibly older.
      let seed = 0;
      for (const c of symbol) seed = (seed * 31 + c.charCodeAt(0)) % 10_000;
      const price = 1_000 + seed + (Math.floor(Date.now() / 1000) % 100);
      return { symbol, price, currency: 'USD', at: new Date().toISOString() };
    },
  };
}
