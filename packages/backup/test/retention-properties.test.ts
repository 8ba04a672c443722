import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRetention, type RetentionEntry, type RetentionPolicy } from '../src/retention.js';

const START = Date.parse('2025-10-01T00:00:00Z');
const SPAN = 400 * 86_400_000; // over a year: every DST change of both zones, a year end
const NOW = new Date(START + SPAN);
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'];

const entries = fc
  .array(
    fc.record({
      database: fc.constantFrom('app', 'billing'),
      target: fc.constantFrom('r2', 's3'),
      // Minute resolution over the span, sometimes exactly on a DST change or a midnight.
      at: fc.oneof(
        fc.integer({ min: 0, max: SPAN / 60_000 }).map((m) => START + m * 60_000),
        fc
          .constantFrom(
            '2026-03-29T01:00:00Z',
            '2026-10-25T01:00:00Z',
            '2026-03-08T07:00:00Z',
            '2025-11-02T06:00:00Z',
            '2025-12-31T23:00:00Z',
          )
          .map(Date.parse),
      ),
      status: fc.constantFrom(
        'complete',
        'complete',
        'complete',
        'failed',
        'partial',
        'in-progress',
      ),
      verified: fc.boolean(),
    }),
    { maxLength: 80 },
  )
  .map((raw) =>
    raw.map(
      (r, i): RetentionEntry => ({
        id: `id-${i}`,
        database: r.database,
        target: r.target,
        createdAt: new Date(r.at),
        status: r.status as RetentionEntry['status'],
        verifiedAt: r.status === 'complete' && r.verified ? new Date(r.at + 1000) : undefined,
      }),
    ),
  );

const policy: fc.Arbitrary<RetentionPolicy> = fc
  .record(
    {
      keepLast: fc.nat(6),
      daily: fc.nat(10),
      weekly: fc.nat(6),
      monthly: fc.nat(14),
    },
    { requiredKeys: [] },
  )
  .filter((p) => Object.values(p).some((n) => n > 0));

const key = (e: { database: string; target: string; id: string }) =>
  `${e.database}/${e.target}/${e.id}`;

function newestFirst(a: RetentionEntry, b: RetentionEntry) {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function groups(list: RetentionEntry[]): RetentionEntry[][] {
  const map = new Map<string, RetentionEntry[]>();
  for (const e of list) {
    const k = `${e.database}/${e.target}`;
    map.set(k, [...(map.get(k) ?? []), e]);
  }
  return [...map.values()].map((g) => g.sort(newestFirst));
}

const verified = (e: RetentionEntry) => e.status === 'complete' && e.verifiedAt !== undefined;

describe('planRetention: invariants over random histories, policies and zones', () => {
  it('partition, safety and idempotence hold', () => {
    fc.assert(
      fc.property(entries, policy, fc.constantFrom(...ZONES), (list, p, timeZone) => {
        const plan = planRetention(list, p, { now: NOW, timeZone });
        const keep = new Set(plan.keep.map(key));
        const remove = new Set(plan.remove.map(key));
        // keep ∪ remove = input, disjoint, nothing listed twice.
        expect(keep.size + remove.size).toBe(list.length);
        expect(new Set([...keep, ...remove])).toEqual(new Set(list.map(key)));

        for (const g of groups(list)) {
          const anchor = g.find(verified);
          const removed = g.filter((e) => remove.has(key(e)));
          // The newest complete verified backup, and all newer, are kept.
          if (anchor) {
            for (const e of g) {
              if (e === anchor || newestFirst(e, anchor) < 0) expect(keep.has(key(e))).toBe(true);
            }
          }
          // Nothing leaves a group whose newest backup is not complete and verified.
          if (!verified(g[0]!)) expect(removed).toEqual([]);
          for (const e of g) if (e.status === 'in-progress') expect(keep.has(key(e))).toBe(true);
          // Failed and partial go as `failed`, complete ones as `expired`.
          for (const r of plan.remove.filter((x) => removed.some((e) => key(e) === key(x)))) {
            const e = g.find((x) => key(x) === key(r))!;
            expect(r.reason).toBe(e.status === 'complete' ? 'expired' : 'failed');
          }
        }

        // Planning again over what is kept removes nothing.
        const again = planRetention(
          list.filter((e) => keep.has(key(e))),
          p,
          { now: NOW, timeZone },
        );
        expect(again.remove).toEqual([]);
      }),
      { numRuns: 600, seed: 17 },
    );
  });

  it('a wider policy keeps a superset', () => {
    fc.assert(
      fc.property(entries, policy, fc.constantFrom(...ZONES), (list, p, timeZone) => {
        const wider = {
          keepLast: (p.keepLast ?? 0) + 1,
          daily: (p.daily ?? 0) + 2,
          weekly: p.weekly ?? 0,
          monthly: (p.monthly ?? 0) + 1,
        };
        const narrow = new Set(planRetention(list, p, { now: NOW, timeZone }).keep.map(key));
        const wide = new Set(planRetention(list, wider, { now: NOW, timeZone }).keep.map(key));
        for (const k of narrow) expect(wide.has(k)).toBe(true);
      }),
      { numRuns: 300, seed: 23 },
    );
  });

  it('the order of the input does not change the plan', () => {
    fc.assert(
      fc.property(
        entries.chain((list) =>
          fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })),
        ),
        policy,
        fc.constantFrom(...ZONES),
        ([list, shuffled], p, timeZone) => {
          const a = planRetention(list, p, { now: NOW, timeZone });
          const b = planRetention(shuffled, p, { now: NOW, timeZone });
          const sort = <T extends { id: string }>(xs: T[]) =>
            [...xs].sort((x, y) => (key(x as never) < key(y as never) ? -1 : 1));
          expect(sort(b.keep)).toEqual(sort(a.keep));
          expect(sort(b.remove)).toEqual(sort(a.remove));
        },
      ),
      { numRuns: 200, seed: 29 },
    );
  });
});
