#!/usr/bin/env node
// Reads vitest JSON reports and prints one plain closing line per run and one for them all:
// "<label>: N passed, N failed, N skipped". Exits non-zero if any test failed or a report is
// missing, so a crashed run is never read as a green one.
import { existsSync, readFileSync } from 'node:fs';

let total = { passed: 0, failed: 0, skipped: 0 };
let bad = false;
for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.split('=');
  if (!existsSync(file)) {
    console.log(`${label}: report missing (${file})`);
    bad = true;
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const passed = r.numPassedTests ?? 0;
  const failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0);
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (failed > 0 || passed === 0) bad = true;
  console.log(`${label}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  total = {
    passed: total.passed + passed,
    failed: total.failed + failed,
    skipped: total.skipped + skipped,
  };
}
console.log(`all: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(bad ? 1 : 0);
