#!/usr/bin/env node
import { runCheckEnv } from './check-env-cli.js';

process.exitCode = await runCheckEnv(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
