import { describe, expect, it } from 'vitest';
import { isBackupError } from '../src/errors.js';
import {
  planRetention,
  type RetentionEntry,
  type RetentionPlan,
  type RetentionPolicy,
} from '../src/retention.js';

const NOW = new Date('2026-12-31T12:00:00Z');

let seq = 0;
function entry(at: string, over: Partial<RetentionEntry> = {}): RetentionEntry {
  const createdAt = new Date(at);
  const status = over.status ?? 'complete';
  return {
    id: over.id ?? `b${String(seq++).padStart(4, '0')}-${at}`,
    database: 'app',
    target: 'r2',
    createdAt,
    status,
    verifiedAt: status === 'complete' ? new Date(createdAt.getTime() + 60_000) : undefined,
    ...over,
  };
}

const ids = (plan: RetentionPlan) => ({
  keep: plan.keep.map((k) => k.id),
  remove: plan.remove.map((r) => r.id),
});
const kept = (plan: RetentionPlan, list: RetentionEntry[]) =>
  list.filter((e) => plan.keep.some((k) => k.id === e.id));
const reasonsOf = (plan: RetentionPlan, id: string) => plan.keep.find((k) => k.id === id)?.reasons;

/** One backup a day at 02:00 UTC, from `from` for `days` days. */
function daily(from: string, days: number): RetentionEntry[] {
  const start = new Date(`${from}T02:00:00Z`).getTime();
  return Array.from({ length: days }, (_, i) =>
    entry(new Date(start + i * 86_400_000).toISOString()),
  );
}

describe('planRetention: policy and input validation', () => {
  const ok = [entry('2026-12-30T02:00:00Z')];
  it.each<[string, unknown]>([
    ['not an object', null],
    ['an array', [7]],
    ['empty', {}],
    ['all zero', { keepLast: 0, daily: 0, weekly: 0, monthly: 0 }],
    ['negative', { keepLast: -1 }],
    ['fraction', { daily: 1.5 }],
    ['string', { daily: '7' }],
    ['NaN', { weekly: Number.NaN }],
    ['infinite', { monthly: Number.POSITIVE_INFINITY }],
    ['unknown rule', { keepLast: 3, yearly: 2 }],
  ])('refuses a policy that is %s with ERR_BACKUP_RETENTION_POLICY', (_, policy) => {
    expect(() => planRetention(ok, policy as RetentionPolicy)).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_RETENTION_POLICY', name: 'BackupError' }),
    );
  });

  it.each<[string, unknown]>([
    ['not an array', 'x'],
    ['an entry without id', [{ ...ok[0], id: '' }]],
    ['an invalid createdAt', [{ ...ok[0], createdAt: new Date('nope') }]],
    ['a createdAt that is a string', [{ ...ok[0], createdAt: '2026-01-01' }]],
    ['an unknown status', [{ ...ok[0], status: 'done' }]],
    ['an invalid verifiedAt', [{ ...ok[0], verifiedAt: new Date(Number.NaN) }]],
    ['a duplicate id in one group', [ok[0], { ...ok[0] }]],
  ])('refuses entries with %s with ERR_BACKUP_INVALID_OPTION', (_, entries) => {
    let caught: unknown;
    try {
      planRetention(entries as RetentionEntry[], { keepLast: 1 });
    } catch (err) {
      caught = err;
    }
    expect(isBackupError(caught, 'ERR_BACKUP_INVALID_OPTION')).toBe(true);
  });

  it('refuses an unknown time zone and an invalid now', () => {
    expect(() => planRetention(ok, { daily: 1 }, { timeZone: 'Mars/Olympus' })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
    expect(() => planRetention(ok, { daily: 1 }, { now: new Date('x') })).toThrow(
      expect.objectContaining({ code: 'ERR_BACKUP_INVALID_OPTION' }),
    );
  });

  it('accepts the same id on two targets (one backup stored twice)', () => {
    const a = entry('2026-12-30T02:00:00Z', { id: 'same' });
    const plan = planRetention([a, { ...a, target: 's3' }], { keepLast: 1 }, { now: NOW });
    expect(plan.keep.map((k) => [k.id, k.target])).toEqual([
      ['same', 'r2'],
      ['same', 's3'],
    ]);
  });

  it('an empty list plans nothing', () => {
    expect(planRetention([], { keepLast: 1 })).toEqual({ keep: [], remove: [] });
  });
});

describe('planRetention: rules', () => {
  it('keepLast keeps the newest N complete backups and expires the rest', () => {
    const list = daily('2026-12-01', 10);
    const plan = planRetention(list, { keepLast: 3 }, { now: NOW });
    expect(ids(plan).keep).toEqual(list.slice(7).map((e) => e.id));
    expect(plan.remove.map((r) => r.reason)).toEqual(Array(7).fill('expired'));
    expect(reasonsOf(plan, list[9]!.id)).toEqual(['newest verified', 'keep-last']);
  });

  it('daily counts days that have a backup: gaps do not use up the rule', () => {
    const days = ['01', '02', '05', '09', '10'].map((d) => entry(`2026-12-${d}T02:00:00Z`));
    const plan = planRetention(days, { daily: 4 }, { now: NOW });
    expect(ids(plan).remove).toEqual([days[0]!.id]);
    expect(reasonsOf(plan, days[2]!.id)).toEqual(['daily 2026-12-05']);
  });

  it('daily keeps the newest backup of each day, the others of that day go', () => {
    const list = [
      entry('2026-12-10T01:00:00Z'),
      entry('2026-12-10T13:00:00Z'),
      entry('2026-12-11T01:00:00Z'),
      entry('2026-12-11T23:00:00Z'),
    ];
    const plan = planRetention(list, { daily: 5 }, { now: NOW });
    expect(kept(plan, list)).toEqual([list[1], list[3]]);
  });

  it('weekly buckets by ISO week across a year end (2026 has a week 53)', () => {
    const list = [
      entry('2026-12-28T02:00:00Z'), // Monday, 2026-W53
      entry('2027-01-03T02:00:00Z'), // Sunday, still 2026-W53
      entry('2027-01-04T02:00:00Z'), // Monday, 2027-W01
    ];
    const plan = planRetention(list, { weekly: 2 }, { now: new Date('2027-01-05T00:00:00Z') });
    expect(ids(plan).remove).toEqual([list[0]!.id]);
    expect(reasonsOf(plan, list[1]!.id)).toEqual(['weekly 2026-W53']);
    expect(reasonsOf(plan, list[2]!.id)).toEqual(['newest verified', 'weekly 2027-W01']);
  });

  it('monthly keeps the newest of each month; rules add up (GFS)', () => {
    const list = daily('2026-09-20', 100); // to 2026-12-28
    const plan = planRetention(
      list,
      { keepLast: 2, daily: 3, weekly: 3, monthly: 4 },
      { now: NOW },
    );
    const keptDays = kept(plan, list).map((e) => e.createdAt.toISOString().slice(0, 10));
    expect(keptDays).toEqual([
      '2026-09-30', // monthly 2026-09
      '2026-10-31', // monthly 2026-10
      '2026-11-30', // monthly 2026-11
      '2026-12-20', // weekly 2026-W51 (Sunday)
      '2026-12-26', // daily
      '2026-12-27', // daily, weekly 2026-W52
      '2026-12-28', // newest, keep-last, daily, weekly 2026-W53, monthly 2026-12
    ]);
    expect(reasonsOf(plan, list.at(-1)!.id)).toEqual([
      'newest verified',
      'keep-last',
      'daily 2026-12-28',
      'weekly 2026-W53',
      'monthly 2026-12',
    ]);
  });

  it('complete backups not verified yet count for the rules; only the newest must be verified', () => {
    const list = daily('2026-12-01', 4).map((e, i) =>
      i < 3 ? { ...e, verifiedAt: undefined } : e,
    );
    const plan = planRetention(list, { keepLast: 3 }, { now: NOW });
    expect(ids(plan).remove).toEqual([list[0]!.id]);
  });
});

describe('planRetention: what is never removed', () => {
  it('a failed newest backup: nothing at all is pruned, and the reason says why', () => {
    const list = [...daily('2026-12-01', 10), entry('2026-12-11T02:00:00Z', { status: 'failed' })];
    const plan = planRetention(list, { keepLast: 1 }, { now: NOW });
    expect(plan.remove).toEqual([]);
    expect(plan.keep[0]!.reasons[0]).toMatch(
      /newest backup is failed: nothing is pruned until a newer one is complete and verified/,
    );
  });

  it.each<[string, Partial<RetentionEntry>]>([
    ['partial', { status: 'partial' }],
    ['in-progress', { status: 'in-progress' }],
    ['complete but not verified', { status: 'complete', verifiedAt: undefined }],
  ])('a newest backup that is %s: nothing is pruned', (_, over) => {
    const list = [...daily('2026-12-01', 5), entry('2026-12-06T02:00:00Z', over)];
    const plan = planRetention(list, { keepLast: 1 }, { now: NOW });
    expect(plan.remove).toEqual([]);
    expect(plan.keep.every((k) => /nothing is pruned until/.test(k.reasons[0]!))).toBe(true);
  });

  it('a group with no verified backup keeps everything, failed ones included', () => {
    const list = [
      entry('2026-12-01T02:00:00Z', { status: 'failed' }),
      entry('2026-12-02T02:00:00Z', { verifiedAt: undefined }),
    ];
    expect(planRetention(list, { keepLast: 1 }, { now: NOW }).remove).toEqual([]);
  });

  it('once the newest verified: older failed and partial go as `failed`, in-progress stays', () => {
    const list = [
      entry('2026-12-01T02:00:00Z', { status: 'failed' }),
      entry('2026-12-02T02:00:00Z', { status: 'partial' }),
      entry('2026-12-03T02:00:00Z', { status: 'in-progress' }),
      entry('2026-12-04T02:00:00Z'),
    ];
    const plan = planRetention(list, { keepLast: 5 }, { now: NOW });
    expect(plan.remove).toEqual([
      { id: list[0]!.id, database: 'app', target: 'r2', reason: 'failed' },
      { id: list[1]!.id, database: 'app', target: 'r2', reason: 'failed' },
    ]);
    expect(reasonsOf(plan, list[2]!.id)).toEqual(['in-progress']);
  });

  it('the newest verified is kept even when a policy of monthly: 1 would pick an older one by date', () => {
    // Two backups in one month, the newer verified: monthly keeps the newest of the month.
    const list = [entry('2026-12-01T02:00:00Z'), entry('2026-12-02T02:00:00Z')];
    const plan = planRetention(list, { monthly: 1 }, { now: NOW });
    expect(ids(plan)).toEqual({ keep: [list[1]!.id], remove: [list[0]!.id] });
  });

  it('a backup dated after `now` (clock skew) stops pruning in its group', () => {
    const list = [...daily('2026-12-01', 5), entry('2027-02-01T02:00:00Z')];
    const plan = planRetention(list, { keepLast: 1 }, { now: NOW });
    expect(plan.remove).toEqual([]);
    expect(plan.keep[0]!.reasons[0]).toMatch(/dated after now/);
    expect(
      planRetention(list, { keepLast: 1 }, { now: new Date('2027-03-01') }).remove,
    ).toHaveLength(5);
  });

  it('groups are planned apart: one target failing blocks only its own pruning', () => {
    const r2 = daily('2026-12-01', 4);
    const s3 = daily('2026-12-01', 4).map((e) => ({ ...e, target: 's3' }));
    const s3Failed = entry('2026-12-05T02:00:00Z', { target: 's3', status: 'failed' });
    const other = daily('2026-12-01', 4).map((e) => ({ ...e, database: 'billing' }));
    const plan = planRetention([...r2, ...s3, s3Failed, ...other], { keepLast: 1 }, { now: NOW });
    expect(plan.remove.map((r) => `${r.database}/${r.target}`)).toEqual([
      ...Array(3).fill('app/r2'),
      ...Array(3).fill('billing/r2'),
    ]);
  });
});

describe('planRetention: daylight saving (calendar days, not 24 h spans)', () => {
  it('Europe/Berlin spring forward: a 23-hour day is one day', () => {
    const list = [
      entry('2026-03-28T23:05:00Z'), // 2026-03-29 00:05 CET
      entry('2026-03-29T21:55:00Z'), // 2026-03-29 23:55 CEST, 22 h 50 min later, same day
      entry('2026-03-29T22:05:00Z'), // 2026-03-30 00:05 CEST
    ];
    const now = new Date('2026-04-01T00:00:00Z');
    const berlin = planRetention(list, { daily: 2 }, { now, timeZone: 'Europe/Berlin' });
    expect(ids(berlin).remove).toEqual([list[0]!.id]);
    expect(reasonsOf(berlin, list[1]!.id)).toEqual(['daily 2026-03-29']);
    expect(reasonsOf(berlin, list[2]!.id)).toEqual(['newest verified', 'daily 2026-03-30']);
    // The same instants in UTC fall on other dates: the zone is what decides.
    const utc = planRetention(list, { daily: 2 }, { now });
    expect(ids(utc).remove).toEqual([list[1]!.id]);
  });

  it('Europe/Berlin fall back: a 25-hour day is one day', () => {
    const list = [
      entry('2026-10-24T22:10:00Z'), // 2026-10-25 00:10 CEST
      entry('2026-10-25T22:50:00Z'), // 2026-10-25 23:50 CET, 24 h 40 min later, same day
    ];
    const plan = planRetention(
      list,
      { daily: 2 },
      {
        now: new Date('2026-11-01T00:00:00Z'),
        timeZone: 'Europe/Berlin',
      },
    );
    expect(ids(plan).remove).toEqual([list[0]!.id]);
    expect(reasonsOf(plan, list[1]!.id)).toEqual(['newest verified', 'daily 2026-10-25']);
  });

  it('America/New_York fall back: the repeated 01:30 and a 25-hour day are one date', () => {
    const list = [
      entry('2026-11-01T04:30:00Z'), // 00:30 EDT
      entry('2026-11-01T05:30:00Z'), // 01:30 EDT
      entry('2026-11-01T06:30:00Z'), // 01:30 EST (again)
      entry('2026-11-02T04:30:00Z'), // 23:30 EST, still 2026-11-01
      entry('2026-11-02T05:30:00Z'), // 2026-11-02 00:30 EST
    ];
    const plan = planRetention(
      list,
      { daily: 2 },
      {
        now: new Date('2026-11-03T00:00:00Z'),
        timeZone: 'America/New_York',
      },
    );
    expect(ids(plan).keep).toEqual([list[3]!.id, list[4]!.id]);
    expect(reasonsOf(plan, list[3]!.id)).toEqual(['daily 2026-11-01']);
  });

  it('America/New_York spring forward: local dates, and the ISO week of the local date', () => {
    const list = [
      entry('2026-03-08T04:59:00Z'), // Saturday 2026-03-07 23:59 EST (2026-W10)
      entry('2026-03-08T05:01:00Z'), // Sunday 2026-03-08 00:01 EST (2026-W10)
      entry('2026-03-09T03:59:00Z'), // Sunday 2026-03-08 23:59 EDT (2026-W10); UTC says Monday
    ];
    const now = new Date('2026-03-10T00:00:00Z');
    const ny = planRetention(list, { daily: 2, weekly: 1 }, { now, timeZone: 'America/New_York' });
    expect(ids(ny).remove).toEqual([list[1]!.id]);
    expect(reasonsOf(ny, list[2]!.id)).toEqual([
      'newest verified',
      'daily 2026-03-08',
      'weekly 2026-W10',
    ]);
    const utc = planRetention(list, { weekly: 2 }, { now });
    expect(reasonsOf(utc, list[2]!.id)).toEqual(['newest verified', 'weekly 2026-W11']);
  });
});

describe('planRetention: order', () => {
  it('ties on createdAt are broken by id, whatever the input order', () => {
    const a = entry('2026-12-10T02:00:00Z', { id: 'a' });
    const b = entry('2026-12-10T02:00:00Z', { id: 'b' });
    for (const list of [
      [a, b],
      [b, a],
    ]) {
      expect(ids(planRetention(list, { keepLast: 1 }, { now: NOW }))).toEqual({
        keep: ['b'],
        remove: ['a'],
      });
    }
  });

  it('unsorted input gives the same plan, listed in input order', () => {
    const list = daily('2026-11-01', 40);
    const shuffled = [...list];
    let seed = 7;
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const policy = { keepLast: 2, daily: 5, weekly: 3 };
    const sorted = planRetention(list, policy, { now: NOW });
    const other = planRetention(shuffled, policy, { now: NOW });
    expect(other.keep.map((k) => k.id)).toEqual(
      shuffled.filter((e) => sorted.keep.some((k) => k.id === e.id)).map((e) => e.id),
    );
    expect(new Set(ids(other).keep)).toEqual(new Set(ids(sorted).keep));
    expect(new Set(ids(other).remove)).toEqual(new Set(ids(sorted).remove));
  });

  it('does not change its input', () => {
    const list = daily('2026-12-01', 5).reverse();
    const copy = structuredClone(list);
    planRetention(list, { keepLast: 1 }, { now: NOW });
    expect(list).toEqual(copy);
  });
});
