/** A clock the test moves by hand, starting on a whole minute so window edges are easy to hit. */
export function manualClock(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
    start,
  };
}

/** A key prefix no other run shares. */
export const uniquePrefix = (what: string) =>
  `test:rl:${what}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
