#!/usr/bin/env node
import { generateKey } from './key.js';

const [command] = process.argv.slice(2);
if (command === 'keygen') {
  process.stdout.write(`${generateKey()}\n`);
} else {
  process.stderr.write('backup-crypto: usage: backup-crypto keygen\n');
  process.exitCode = 2;
}
