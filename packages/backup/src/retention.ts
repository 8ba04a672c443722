import { BackupError, BackupErrorCode, invalidOption } from './errors.js';

/** One stored backup, as retention sees it. */
export interface RetentionEntry {
  /** The backup's id; unique within its database and target. */
  id: string;
  /** The database it is a dump of: retention runs per database and target. */
  database: string;
  /** The storage target that holds it (`r2`, `s3` …). */
  target: string;
  /** When the dump started. */
  createdAt: Date;
  /** `complete` once every byte and the manifest are stored on this target. */
  status: 'complete' | 'failed' | 'partial' | 'in-progress';
  /** When a restore test (or the post-upload check) proved it readable; absent until then. */
  verifiedAt?: Date | undefined;
}

/**
 * How many complete backups each rule keeps, per database and target. Rules add up: a backup
 * kept by any rule stays (as restic, borg and pgBackRest do it). At least one rule must be above 0.
 */
export interface RetentionPolicy {
  /** The newest N complete backups. */
  keepLast?: number | undefined;
  /** The newest complete backup of each of the last N calendar days that have one. */
  daily?: number | undefined;
  /** The newest complete backup of each of the last N ISO weeks that have one. */
  weekly?: number | undefined;
  /** The newest complete backup of each of the last N calendar months that have one. */
  monthly?: number | undefined;
}

/** What to keep (with every reason that keeps it) and what to remove (with why). */
export interface RetentionPlan {
  keep: { id: string; database: string; target: string; reasons: string[] }[];
  remove: { id: string; database: string; target: string; reason: 'failed' | 'expired' }[];
}

/** Options of {@link planRetention}. */
export interface PlanRetentionOptions {
  /** The present: a group holding a backup dated after it prunes nothing. @default new Date() */
  now?: Date | undefined;
  /** The IANA zone whose calendar days, ISO weeks and months bucket backups. @default 'UTC' */
  timeZone?: string | undefined;
}

const RULES = ['keepLast', 'daily', 'weekly', 'monthly'] as const;
const STATUSES = new Set(['complete', 'failed', 'partial', 'in-progress']);

function policyError(message: string): BackupError {
  return new BackupError(BackupErrorCode.RetentionPolicy, message);
}

/** Validates `policy`: known rules only, each a non-negative integer, one of them above 0. */
export function checkRetentionPolicy(policy: RetentionPolicy): Required<RetentionPolicy> {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw policyError('the retention policy must be an object such as { keepLast: 7, daily: 30 }');
  }
  for (const key of Object.keys(policy)) {
    if (!(RULES as readonly string[]).includes(key)) {
      throw policyError(
        `unknown retention rule "${key.slice(0, 32)}": use keepLast, daily, weekly or monthly`,
      );
    }
  }
  const out = { keepLast: 0, daily: 0, weekly: 0, monthly: 0 };
  for (const rule of RULES) {
    const n: unknown = policy[rule];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw policyError(`retention rule \`${rule}\` must be a whole number of at least 0`);
    }
    out[rule] = n;
  }
  if (RULES.every((r) => out[r] === 0)) {
    throw policyError(
      'the retention policy keeps nothing: set at least one of keepLast, daily, weekly, monthly above 0',
    );
  }
  return out;
}

const isDate = (d: unknown): d is Date => d instanceof Date && !Number.isNaN(d.getTime());

function checkEntries(entries: readonly RetentionEntry[]): void {
  if (!Array.isArray(entries)) throw invalidOption('`entries` must be an array of backups');
  const seen = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const where = `entries[${i}]`;
    if (typeof e !== 'object' || e === null) throw invalidOption(`${where} must be an object`);
    for (const key of ['id', 'database', 'target'] as const) {
      if (typeof e[key] !== 'string' || e[key].length === 0) {
        throw invalidOption(`${where}.${key} must be a non-empty string`);
      }
    }
    if (!isDate(e.createdAt)) throw invalidOption(`${where}.createdAt must be a valid Date`);
    if (e.verifiedAt !== undefined && !isDate(e.verifiedAt)) {
      throw invalidOption(`${where}.verifiedAt must be a valid Date or undefined`);
    }
    if (!STATUSES.has(e.status)) {
      throw invalidOption(`${where}.status must be complete, failed, partial or in-progress`);
    }
    const key = JSON.stringify([e.database, e.target, e.id]);
    if (seen.has(key)) {
      throw invalidOption(`${where}: id "${e.id.slice(0, 64)}" appears twice for one target`);
    }
    seen.add(key);
  }
}

/** Calendar keys of an instant in one zone: day, ISO week and month. */
type Buckets = { daily: string; weekly: string; monthly: string };

const formats = new Map<string, Intl.DateTimeFormat>();
function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
      });
    } catch (err) {
      throw invalidOption(`\`timeZone\` must be an IANA zone such as 'Europe/Berlin'`, err);
    }
    if (formats.size < 64) formats.set(timeZone, f);
  }
  return f;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The local date in the zone (a DST day is 23 or 25 hours: it is still one date). */
function bucketsOf(at: Date, format: Intl.DateTimeFormat): Buckets {
  let y = 0;
  let m = 0;
  let d = 0;
  for (const p of format.formatToParts(at)) {
    if (p.type === 'year') y = Number(p.value);
    else if (p.type === 'month') m = Number(p.value);
    else if (p.type === 'day') d = Number(p.value);
  }
  // ISO week: the week (Monday first) holding the date's Thursday; its year is that Thursday's.
  const local = Date.UTC(y, m - 1, d);
  const weekday = (new Date(local).getUTCDay() + 6) % 7;
  const thursday = new Date(local + (3 - weekday) * 86_400_000);
  const isoYear = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000)) + 1;
  return {
    daily: `${pad(y, 4)}-${pad(m)}-${pad(d)}`,
    weekly: `${pad(isoYear, 4)}-W${pad(week)}`,
    monthly: `${pad(y, 4)}-${pad(m)}`,
  };
}

/** Newest first; equal times by id, so that every plan of the same input is the same. */
function newestFirst(a: RetentionEntry, b: RetentionEntry): number {
  const dt = b.createdAt.getTime() - a.createdAt.getTime();
  if (dt !== 0) return dt;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const isVerified = (e: RetentionEntry) => e.status === 'complete' && e.verifiedAt !== undefined;

/** Every reason that keeps each entry of one group, or why the group is left whole. */
function planGroup(
  group: RetentionEntry[],
  policy: Required<RetentionPolicy>,
  now: number,
  format: Intl.DateTimeFormat,
): Map<RetentionEntry, string[]> | string {
  const sorted = [...group].sort(newestFirst);
  const newest = sorted[0]!;
  if (newest.createdAt.getTime() > now) {
    return 'a backup is dated after now (clock skew?): nothing is pruned from this group';
  }
  if (!isVerified(newest)) {
    const state =
      newest.status === 'complete' ? 'complete but not verified yet' : `${newest.status}`;
    return `the newest backup is ${state}: nothing is pruned until a newer one is complete and verified`;
  }
  const keep = new Map<RetentionEntry, string[]>([[newest, ['newest verified']]]);
  const add = (e: RetentionEntry, reason: string) => {
    const reasons = keep.get(e);
    if (reasons) reasons.push(reason);
    else keep.set(e, [reason]);
  };
  const complete = sorted.filter((e) => e.status === 'complete');
  for (const e of complete.slice(0, policy.keepLast)) add(e, 'keep-last');
  const buckets = new Map(complete.map((e) => [e, bucketsOf(e.createdAt, format)]));
  for (const rule of ['daily', 'weekly', 'monthly'] as const) {
    const taken = new Set<string>();
    for (const e of complete) {
      if (taken.size >= policy[rule]) break;
      const key = buckets.get(e)![rule];
      if (taken.has(key)) continue;
      taken.add(key);
      add(e, `${rule} ${key}`);
    }
  }
  for (const e of sorted) if (e.status === 'in-progress') add(e, 'in-progress');
  return keep;
}

/**
 * Plans which backups to keep and which to remove, per database and target; pure, no I/O. Rules
 * follow restic/borg/pgBackRest (see {@link RetentionPolicy}); calendar buckets are local dates
 * in `timeZone`, so a daylight-saving day is still one day. Whatever the policy, it never removes
 * the newest complete verified backup, anything newer, or an in-progress backup, and a group
 * whose newest backup is not complete and verified is left whole: prune only after the new one
 * verified. Failed and partial backups older than the newest verified one go (`failed`); complete
 * ones no rule keeps go (`expired`). Every entry is in exactly one of `keep` and `remove`, in
 * input order, and planning again over `keep` removes nothing.
 *
 * Throws `ERR_BACKUP_RETENTION_POLICY` for a policy that keeps nothing or has a rule that is not a
 * non-negative integer, and `ERR_BACKUP_INVALID_OPTION` for malformed entries or options.
 */
export function planRetention(
  entries: readonly RetentionEntry[],
  policy: RetentionPolicy,
  options: PlanRetentionOptions = {},
): RetentionPlan {
  const rules = checkRetentionPolicy(policy);
  checkEntries(entries);
  if (typeof options !== 'object' || options === null) {
    throw invalidOption('planRetention options must be an object: { now?, timeZone? }');
  }
  const now = options.now ?? new Date();
  if (!isDate(now)) throw invalidOption('`now` must be a valid Date');
  const timeZone = options.timeZone ?? 'UTC';
  if (typeof timeZone !== 'string') throw invalidOption('`timeZone` must be an IANA zone name');
  const format = formatFor(timeZone);

  const groups = new Map<string, RetentionEntry[]>();
  for (const e of entries) {
    const key = JSON.stringify([e.database, e.target]);
    const g = groups.get(key);
    if (g) g.push(e);
    else groups.set(key, [e]);
  }
  const verdicts = new Map<RetentionEntry, string[] | 'failed' | 'expired'>();
  for (const group of groups.values()) {
    const kept = planGroup(group, rules, now.getTime(), format);
    for (const e of group) {
      if (typeof kept === 'string') verdicts.set(e, [kept]);
      else verdicts.set(e, kept.get(e) ?? (e.status === 'complete' ? 'expired' : 'failed'));
    }
  }
  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const e of entries) {
    const v = verdicts.get(e)!;
    const { id, database, target } = e;
    if (typeof v === 'string') plan.remove.push({ id, database, target, reason: v });
    else plan.keep.push({ id, database, target, reasons: v });
  }
  return plan;
}
