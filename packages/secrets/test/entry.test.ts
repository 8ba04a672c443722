import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '../src');

/** The source files `entry` loads at run time (type-only imports left out), transitively. */
function runtimeGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)) {
      if (m[2]) continue;
      const spec = m[3]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(spec);
    }
    for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(`dynamic:${spec}`);
    }
  };
  visit(join(src, entry));
  return bare;
}

describe('entries', () => {
  it('the root entry loads no AWS SDK, not even lazily', () => {
    const deps = [...runtimeGraph('index.ts')];
    expect(deps.filter((d) => d.includes('@aws-sdk'))).toEqual([]);
    expect(deps.filter((d) => !d.startsWith('node:'))).toEqual(['@org/core']);
  });

  it('@org/secrets/aws loads the SDK only on first use', () => {
    const deps = [...runtimeGraph('aws.ts')];
    expect(deps).toContain('dynamic:@aws-sdk/client-secrets-manager');
    expect(deps).not.toContain('@aws-sdk/client-secrets-manager');
  });

  const dist = resolve(import.meta.dirname, '../dist');
  it.runIf(existsSync(join(dist, 'index.js')))('the built root entry names no AWS SDK', () => {
    for (const file of ['index.js', 'index.cjs']) {
      expect(readFileSync(join(dist, file), 'utf8')).not.toContain('@aws-sdk');
    }
    // The bin and ./aws load it with a dynamic import, on first use of the aws provider.
    for (const file of ['aws.js', 'aws.cjs', 'check-env.js']) {
      const text = readFileSync(join(dist, file), 'utf8');
      expect(text).toContain('import("@aws-sdk/client-secrets-manager")');
      expect(text).not.toMatch(/^import .*@aws-sdk/m);
      expect(text).not.toMatch(/require\("@aws-sdk/);
    }
  });
});
