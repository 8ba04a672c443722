import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { describeError, isOrgError, scrubString } from '@org/core';
import { checkEnv, type EnvSchema, formatEnvReport } from './env-check.js';
import { invalidOption } from './errors.js';
import { createSecretsFromEnv } from './from-env.js';
import type { SecretsProvider } from './provider.js';

const USAGE = `Usage: check-env [--schema env.schema.json] [--provider env|aws] [options]

Checks that every variable and secret the schema lists is set (or reachable) and of its type,
and prints a table. Values are never printed.

  --schema <file>     the schema: JSON, or a .js/.mjs module whose default export is one
                      (default: env.schema.json)
  --provider <name>   where secrets are read: env (default) or aws (Secrets Manager)
  --prefix <p>        put in front of secret names (default: $SECRETS_PREFIX)
  --region <r>        the AWS region (default: the SDK's, e.g. $AWS_REGION)
  --endpoint <url>    a Secrets Manager endpoint (a local emulator)
  --timeout <d>       the bound of each secret read, e.g. 5s (default: 5s)
  --json              print the report as JSON instead of a table
  -h, --help          this text

Exit status: 0 all present, 1 something missing, invalid or unreachable, 2 a usage error.`;

/** Where the CLI writes. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

async function loadSchema(file: string): Promise<EnvSchema> {
  const path = resolve(file);
  const ext = extname(path);
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
    const mod = (await import(pathToFileURL(path).href)) as { default?: EnvSchema };
    return mod.default ?? (mod as EnvSchema);
  }
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as EnvSchema;
  } catch (err) {
    // V8's message quotes the text it choked on: a .env passed by mistake would show a value.
    const at = /at position (\d+)/.exec((err as Error).message)?.[1];
    throw invalidOption(
      `it is not JSON${at === undefined ? '' : ` (at position ${at})`}: write the schema as JSON, or as a .js/.mjs module whose default export is one`,
    );
  }
}

/** Why the schema could not be loaded, without what a module's error may quote (a URL's password, a token). */
const schemaProblem = (err: unknown): string =>
  scrubString(describeError(err, 300), { mode: 'reason' });

/**
 * The `check-env` command: returns its exit status (0 ok, 1 something missing or wrong, 2 a
 * usage error). `env` is the process's environment: this is the CLI, where reading it is its job.
 */
export async function runCheckEnv(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliOutput,
): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    io.err(`check-env: ${describeError(err)}\n\n${USAGE}`);
    return 2;
  }
  const v = args.values;
  if (v.help) {
    io.out(USAGE);
    return 0;
  }
  const file = v.schema ?? 'env.schema.json';
  let schema: EnvSchema;
  try {
    schema = await loadSchema(file);
  } catch (err) {
    io.err(`check-env: cannot read the schema ${file}: ${schemaProblem(err)}`);
    return 2;
  }
  const kind = v.provider ?? 'env';
  if (kind !== 'env' && kind !== 'aws') {
    io.err(`check-env: --provider must be env or aws\n\n${USAGE}`);
    return 2;
  }
  let secrets: ReturnType<typeof createSecretsFromEnv> | undefined;
  try {
    let provider: SecretsProvider | undefined;
    if (kind === 'aws') {
      const { awsProvider } = await import('./drivers/aws.js');
      const clientConfig: Record<string, string> = {};
      if (v.region) clientConfig.region = v.region;
      if (v.endpoint) clientConfig.endpoint = v.endpoint;
      provider = awsProvider({ clientConfig });
    }
    secrets = createSecretsFromEnv(env, {
      provider,
      prefix: v.prefix,
      timeout: v.timeout as never,
      // A check reads each secret once: nothing to keep, no stale value to hide behind.
      maxStale: 0,
    });
    const report = await checkEnv(schema, { env, secrets });
    io.out(v.json ? JSON.stringify(report, null, 2) : formatEnvReport(report));
    return report.ok ? 0 : 1;
  } catch (err) {
    const usage = isOrgError(err, 'ERR_SECRETS_INVALID_OPTION');
    io.err(`check-env: ${describeError(err)}`);
    return usage ? 2 : 1;
  } finally {
    await secrets?.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      schema: { type: 'string' },
      provider: { type: 'string' },
      prefix: { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The `check-env` bin: the process's arguments and environment, stdout and stderr. */
export async function main(): Promise<number> {
  return runCheckEnv(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}
