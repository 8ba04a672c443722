import { isOrgError } from '@org/core';
import { check, invalidOption } from './errors.js';
import type { SecretVersion } from './provider.js';
import type { Secrets } from './secrets.js';

/** The types `checkEnv` checks a value against. */
export type EnvValueType = 'string' | 'url' | 'number' | 'integer' | 'boolean' | 'enum';

/** What one variable or secret must be. A bare type (`'url'`) is `{ type: 'url' }`. */
export interface EnvValueSpec {
  /** @default 'string' */
  type?: EnvValueType | undefined;
  /** The allowed values of an `enum`. */
  values?: readonly string[] | undefined;
  /** Whether it may be missing. @default false */
  optional?: boolean | undefined;
  /** A few words for the table. */
  description?: string | undefined;
}

/** What one secret must be: a value spec, plus the field and version to read. */
export interface SecretSpec extends EnvValueSpec {
  /** For a JSON secret: the field to check. */
  field?: string | undefined;
  /** The version to read. @default 'AWSCURRENT' */
  version?: SecretVersion | undefined;
}

/** What `checkEnv` checks: plain environment variables and secrets (read through a client). */
export interface EnvSchema {
  /** Variable name → what it must be. */
  variables?: Readonly<Record<string, EnvValueSpec | EnvValueType>> | undefined;
  /** Secret name → what it must be; needs `secrets` in the options. */
  secrets?: Readonly<Record<string, SecretSpec | EnvValueType>> | undefined;
}

/** Options of {@link checkEnv}. */
export interface CheckEnvOptions {
  /** The variables to check (the CLI passes `process.env`). @default {} */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** The client the schema's `secrets` are read with. */
  secrets?: Secrets | undefined;
  /** Aborts the check. Each secret read is bounded by the client's `timeout`. */
  signal?: AbortSignal | undefined;
}

/** The verdict on one variable or secret. */
export type EnvCheckStatus = 'ok' | 'missing' | 'invalid' | 'unreachable' | 'skipped';

/** One row of the report: never a value. */
export interface EnvCheckRow {
  kind: 'variable' | 'secret';
  name: string;
  /** Where it was looked for: `env DATABASE_URL`, `Secrets Manager cineview-db`. */
  source: string;
  type: EnvValueType;
  required: boolean;
  status: EnvCheckStatus;
  /** Why it is not `ok` (a type, a code), or the description. */
  detail: string;
}

/** What `checkEnv` found. */
export interface EnvReport {
  /** Whether every required entry is `ok` and no entry present is `invalid`. */
  ok: boolean;
  rows: EnvCheckRow[];
}

function specOf(spec: EnvValueSpec | EnvValueType, name: string): EnvValueSpec {
  const s = typeof spec === 'string' ? { type: spec } : check.object(spec, name);
  const type = check.oneOf(
    s.type,
    `${name}.type`,
    ['string', 'url', 'number', 'integer', 'boolean', 'enum'],
    'string',
  );
  if (type === 'enum' && (!Array.isArray(s.values) || s.values.length === 0)) {
    throw invalidOption(`\`${name}.values\` must list the allowed values of an enum`);
  }
  return { ...s, type };
}

/** Why `value` is not of `spec`'s type, or `undefined` when it is. Never quotes the value. */
export function typeProblem(value: string, spec: EnvValueSpec): string | undefined {
  switch (spec.type ?? 'string') {
    case 'url':
      return URL.canParse(value) ? undefined : 'not an absolute URL';
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value)) ? undefined : 'not a number';
    case 'integer':
      return /^\s*-?\d+\s*$/.test(value) ? undefined : 'not an integer';
    case 'boolean':
      return /^(true|false|1|0|yes|no)$/i.test(value) ? undefined : 'not true or false';
    case 'enum':
      return spec.values?.includes(value)
        ? undefined
        : `not one of ${spec.values?.map((v) => `'${v}'`).join(', ')}`;
    default:
      return undefined;
  }
}

/**
 * Checks that every required variable and secret of `schema` is there and of its type, without
 * ever putting a value in the report. Secrets are read through `options.secrets` (all at once,
 * each bounded by the client's `timeout`); a provider failure is `unreachable`.
 */
export async function checkEnv(
  schema: EnvSchema,
  options: CheckEnvOptions = {},
): Promise<EnvReport> {
  const s = check.object(schema, 'schema');
  const env = options.env ?? {};
  const rows: EnvCheckRow[] = [];
  for (const [name, raw] of Object.entries(s.variables ?? {})) {
    const spec = specOf(raw, `variables.${name}`);
    const value = env[name];
    rows.push(
      row(
        'variable',
        name,
        `env ${name}`,
        spec,
        value === undefined || value === '' ? undefined : value,
      ),
    );
  }
  const secretEntries = Object.entries(s.secrets ?? {});
  if (secretEntries.length > 0 && options.secrets === undefined) {
    throw invalidOption('The schema lists secrets: pass `secrets`, a client to read them with');
  }
  const client = options.secrets;
  const checked = await Promise.all(
    secretEntries.map(async ([name, raw]): Promise<EnvCheckRow> => {
      const spec = specOf(raw, `secrets.${name}`) as SecretSpec;
      const source = client!.describe(name) + (spec.field ? ` .${spec.field}` : '');
      try {
        const v = await client!.get(name, {
          field: spec.field,
          version: spec.version,
          signal: options.signal,
        });
        return row('secret', name, source, spec, v.reveal());
      } catch (err) {
        // An abort, or a provider that cannot work at all (its SDK missing), ends the check.
        if (isOrgError(err, 'ERR_ABORTED', 'ERR_SECRETS_INVALID_OPTION')) throw err;
        if (isOrgError(err, 'ERR_SECRETS_NOT_FOUND')) {
          return row('secret', name, source, spec, undefined);
        }
        // The code, and the name (never the message) of what caused it: CredentialsProviderError…
        const cause = (err as { cause?: unknown }).cause;
        const causeName =
          cause instanceof Error && cause.name !== 'Error' ? ` (${cause.name})` : '';
        const code = (isOrgError(err) ? err.code : 'error') + causeName;
        const status = isOrgError(err, 'ERR_SECRETS_INVALID_FORMAT') ? 'invalid' : 'unreachable';
        return { ...row('secret', name, source, spec, undefined), status, detail: code };
      }
    }),
  );
  rows.push(...checked);
  const ok = rows.every((r) => r.status === 'ok' || r.status === 'skipped');
  return { ok, rows };
}

function row(
  kind: EnvCheckRow['kind'],
  name: string,
  source: string,
  spec: EnvValueSpec,
  value: string | undefined,
): EnvCheckRow {
  const type = spec.type ?? 'string';
  const required = spec.optional !== true;
  const base = { kind, name, source, type, required };
  if (value === undefined) {
    return required
      ? { ...base, status: 'missing', detail: 'required, not set' }
      : { ...base, status: 'skipped', detail: 'optional, not set' };
  }
  const problem = typeProblem(value, spec);
  if (problem !== undefined) return { ...base, status: 'invalid', detail: problem };
  return { ...base, status: 'ok', detail: spec.description ?? '' };
}

const MARK: Record<EnvCheckStatus, string> = {
  ok: 'ok',
  missing: 'MISSING',
  invalid: 'INVALID',
  unreachable: 'UNREACHABLE',
  skipped: '-',
};

/** The report as a plain-text table: one row per entry, then a summary line. No values. */
export function formatEnvReport(report: EnvReport): string {
  const head = ['status', 'kind', 'name', 'source', 'type', 'detail'];
  const body = report.rows.map((r) => [MARK[r.status], r.kind, r.name, r.source, r.type, r.detail]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const bad = report.rows.filter((r) => r.status !== 'ok' && r.status !== 'skipped').length;
  const summary = report.ok
    ? `all ${report.rows.length} checked: ok`
    : `${bad} of ${report.rows.length} need attention`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), '', summary].join(
    '\n',
  );
}
