import { describeError } from '@org/core';
import { invalidOption } from './errors.js';
import { type BackupEntry, listBackups } from './list.js';
import { dataKey, manifestKey } from './manifest.js';
import { check, type Resolved, targetNamed } from './options.js';
import {
  planRetention,
  type RetentionEntry,
  type RetentionPlan,
  type RetentionPolicy,
} from './retention.js';

/** Options of `prune`. */
export interface PruneRequest {
  /** The target to prune. @default every target with a retention policy */
  target?: string | undefined;
  /** The policy. @default the target's `retention` option */
  policy?: RetentionPolicy | undefined;
  /** Only say what would be deleted. @default false */
  dryRun?: boolean | undefined;
  /** The present, for the calendar rules. @default the clock's now */
  now?: Date | undefined;
  signal?: AbortSignal | undefined;
}

/** What `prune` did (or would do) on one target. */
export interface PruneResult {
  target: string;
  plan: RetentionPlan;
  /** Ids deleted (none on a dry run). */
  deleted: string[];
  /** Deletes that failed, by id. */
  errors: Record<string, string>;
  dryRun: boolean;
}

/** How retention sees a listed backup. */
export function retentionEntry(e: BackupEntry, now: number, inProgressMs: number): RetentionEntry {
  let status: RetentionEntry['status'] = 'complete';
  // An incomplete backup younger than a run's timeout may still be uploading: never pruned.
  if (e.status !== 'complete')
    status = now - e.createdAt.getTime() < inProgressMs ? 'in-progress' : 'failed';
  else if (e.verifyFailed) status = 'failed';
  return {
    id: e.id,
    database: e.database,
    target: e.target,
    createdAt: e.createdAt,
    status,
    verifiedAt: e.verifiedAt,
  };
}

/** @internal Applies retention on each target: manifests first, so a half-deleted backup lists as incomplete. */
export async function pruneBackups(
  r: Resolved,
  request: PruneRequest = {},
): Promise<PruneResult[]> {
  const req = check.object(request, 'request');
  const dryRun = check.boolean(req.dryRun, 'dryRun', false);
  const names = req.target === undefined ? Object.keys(r.retention) : [req.target];
  if (names.length === 0)
    throw invalidOption(
      'prune needs a retention policy and no target has one: set `retention` (createBackup), or "retention" on a target of the config file (e.g. "targets": { "local": { …, "retention": { "daily": 30 } } }), or pass `policy`',
    );
  const now = req.now ?? new Date(r.clock.now());
  const out: PruneResult[] = [];
  for (const target of names) {
    const storage = targetNamed(r, target);
    const policy = req.policy ?? r.retention[target];
    if (policy === undefined)
      throw invalidOption(
        `no retention policy for target ${target}: pass \`policy\`, set \`retention.${target}\` (createBackup), or "retention" on target "${target}" of the config file`,
      );
    const entries = await listBackups(r, { target, signal: req.signal });
    const plan = planRetention(
      entries.map((e) => retentionEntry(e, now.getTime(), r.timeoutMs)),
      policy,
      { now, timeZone: r.timeZone },
    );
    const deleted: string[] = [];
    const errors: Record<string, string> = {};
    if (!dryRun) {
      for (const item of plan.remove) {
        try {
          await storage.delete(manifestKey(item.database, item.id), { signal: req.signal });
          await storage.delete(dataKey(item.database, item.id), { signal: req.signal });
          deleted.push(item.id);
        } catch (err) {
          if (req.signal?.aborted) throw err;
          errors[item.id] = describeError(err);
        }
      }
    }
    out.push({ target, plan, deleted, errors, dryRun });
  }
  return out;
}
