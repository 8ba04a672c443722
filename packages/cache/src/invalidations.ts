/**
 * What this instance knows about invalidations: a counter that moves on every one, so that an L2
 * read that started before an invalidation of its key (or a flush) does not put the old value
 * into L1 after it; and who waits for a key another instance is loading.
 */
export class Invalidations {
  private seq = 0;
  private flushedAt = 0;
  private readonly byKey = new Map<string, number>();
  private readonly waiters = new Map<string, Set<() => void>>();

  /** The counter now; take it before an L2 read and pass it to `allows` after. */
  get epoch(): number {
    return this.seq;
  }

  /** Records that `key` changed (here or on another instance). */
  mark(key: string): void {
    // Bounded: past 10 000 keys, forget them all and treat it as a flush, which is only stricter.
    if (this.byKey.size >= 10_000) {
      this.byKey.clear();
      this.flushedAt = this.seq + 1;
    }
    this.byKey.set(key, ++this.seq);
  }

  /** Records that everything changed (L1 flushed, namespace cleared). */
  markAll(): void {
    this.byKey.clear();
    this.flushedAt = ++this.seq;
  }

  /** Whether a value of `key` read at `epoch` may still go into L1. */
  allows(key: string, epoch: number): boolean {
    return this.flushedAt <= epoch && (this.byKey.get(key) ?? 0) <= epoch;
  }

  /** Whether `key` itself was marked after `epoch` (flushes aside). */
  keyChangedSince(key: string, epoch: number): boolean {
    return (this.byKey.get(key) ?? 0) > epoch;
  }

  /** Registers `wake` to run when `key` changes; returns the function that unregisters it. */
  onChange(key: string, wake: () => void): () => void {
    let set = this.waiters.get(key);
    if (!set) {
      set = new Set();
      this.waiters.set(key, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    };
  }

  /** Runs the waiters of `key`, or of every key. */
  wake(key?: string): void {
    const sets = key === undefined ? [...this.waiters.values()] : [this.waiters.get(key)];
    for (const set of sets) if (set) for (const wake of [...set]) wake();
  }
}

/** One message on the invalidation channel: keys that changed, or the prefix that was cleared. */
export interface BusMessage {
  k?: string[];
  c?: string;
}

/** `<sender id><JSON>`: the id in front lets a receiver drop its own messages unparsed. */
export function encodeBusMessage(senderId: string, msg: BusMessage): string {
  return senderId + JSON.stringify(msg);
}

/** The message in `text` (sender id cut off), or undefined when it is not one of ours. */
export function parseBusMessage(text: string): BusMessage | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    const m = JSON.parse(text.slice(start)) as unknown;
    return typeof m === 'object' && m !== null ? (m as BusMessage) : undefined;
  } catch {
    return undefined;
  }
}
