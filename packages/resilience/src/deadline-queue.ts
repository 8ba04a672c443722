/** One attempt waiting on its deadline, linked into a {@link DeadlineQueue}. */
export interface Deadline {
  /** When it expires, by `performance.now()`. */
  at: number;
  prev: Deadline | undefined;
  next: Deadline | undefined;
  /** True while it is in the queue: neither settled nor expired. */
  queued: boolean;
  /** Called once, when `at` has passed and it is still queued. */
  expire(): void;
}

/**
 * The deadlines of one breaker's attempts in flight, served by one timer. Every attempt of a
 * breaker has the same timeout, so deadlines come in the order attempts start: a list in start
 * order is sorted, adding and removing are O(1), and the timer only needs the head. The timer
 * is not re-made per call: when the head settles first, the timer stays armed for the earlier
 * deadline and, when it fires, re-arms for the new head. It keeps the process alive (it bounds
 * a caller's await) only while an attempt is queued; with none, it is unref()ed and lapses.
 */
export class DeadlineQueue {
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The deadline the timer was armed for. */
  #armedFor = 0;
  #refed = false;
  #expiring = false;

  add(d: Deadline): void {
    d.queued = true;
    d.prev = this.#tail;
    d.next = undefined;
    if (this.#tail) this.#tail.next = d;
    else this.#head = d;
    this.#tail = d;
    // While expiring, the timer is re-armed for the head once the loop is over.
    if (this.#expiring) return;
    if (this.#timer === undefined) this.#arm(d.at);
    else if (!this.#refed) {
      this.#timer.ref();
      this.#refed = true;
    }
  }

  remove(d: Deadline): void {
    if (!d.queued) return;
    d.queued = false;
    if (d.prev) d.prev.next = d.next;
    else this.#head = d.next;
    if (d.next) d.next.prev = d.prev;
    else this.#tail = d.prev;
    d.prev = undefined;
    d.next = undefined;
    if (this.#head === undefined && this.#timer !== undefined && this.#refed) {
      this.#timer.unref();
      this.#refed = false;
    }
  }

  #arm(at: number): void {
    this.#armedFor = at;
    this.#timer = setTimeout(this.#fire, Math.max(1, at - performance.now()));
    this.#refed = true;
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#refed = false;
    // A timer may fire a fraction of a millisecond before `performance.now()` reaches its mark.
    const now = Math.max(performance.now(), this.#armedFor);
    this.#expiring = true;
    try {
      while (this.#head !== undefined && this.#head.at <= now) {
        const d = this.#head;
        this.remove(d);
        d.expire();
      }
    } finally {
      this.#expiring = false;
      if (this.#head !== undefined) this.#arm(this.#head.at);
    }
  };
}
