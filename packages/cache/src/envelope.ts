/** A stored value with the metadata both tiers need. */
export interface Entry {
  /** The serialized value. */
  payload: string;
  /** Logical expiry, ms since the epoch; past it the value is stale (grace only). */
  expiresAt: number;
  /** The TTL it was written with, in ms (for early refresh). */
  ttlMs: number;
}

/** `<expiresAt>|<ttlMs>|<payload>`: two numbers in front, so reading needs no second parse. */
export function encodeEntry(e: Entry): string {
  return `${e.expiresAt}|${e.ttlMs}|${e.payload}`;
}

/** The entry in `raw`, or undefined when it is not one (another writer's key). */
export function decodeEntry(raw: string): Entry | undefined {
  const a = raw.indexOf('|');
  const b = a < 0 ? -1 : raw.indexOf('|', a + 1);
  if (b < 0) return undefined;
  const expiresAt = Number(raw.slice(0, a));
  const ttlMs = Number(raw.slice(a + 1, b));
  if (Number.isNaN(expiresAt) || Number.isNaN(ttlMs)) return undefined;
  return { payload: raw.slice(b + 1), expiresAt, ttlMs };
}
