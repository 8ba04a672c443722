/**
 * Holds every package to CONTRIBUTING.md's contract: manifests, error codes and guards, the
 * source rules (no error base, emitter, diagnostics channel or environment read of its own),
 * duration option types (through the TypeScript checker over each package's public entries),
 * and at run time, `close()` and bad options on each package's zero-config objects.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isOrgError, OrgError } from '@org/core';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { type ContractPackage, PACKAGES, RESERVED_PREFIXES, SHARED_CODES } from './packages.js';
import { RUNTIME } from './runtime.js';

const root = join(import.meta.dirname, '..');
const pkgDir = (p: ContractPackage) => join(root, 'packages', p.dir);
const manifest = (p: ContractPackage) =>
  JSON.parse(readFileSync(join(pkgDir(p), 'package.json'), 'utf8')) as Record<string, unknown> & {
    name: string;
    exports: Record<string, unknown>;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Violations of one rule: `file:line text`. An empty list passes. */
function scan(p: ContractPackage, pattern: RegExp, allow: (file: string) => boolean = () => false) {
  const hits: string[] = [];
  for (const file of sourceFiles(join(pkgDir(p), 'src'))) {
    if (allow(relative(pkgDir(p), file))) continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (/^\s*(\*|\/\*\*)/.test(line)) return;
        if (pattern.test(code)) hits.push(`${relative(root, file)}:${i + 1} ${line.trim()}`);
      });
  }
  return hits;
}

const load = (p: ContractPackage): Promise<Record<string, unknown>> => import(`@org/${p.dir}`);
const others = PACKAGES.filter((p) => p.dir !== 'core');

describe('manifests', () => {
  it.each(PACKAGES.map((p) => [p.dir, p] as const))('%s', (_, p) => {
    const m = manifest(p);
    expect(m.name).toBe(`@org/${p.dir}`);
    expect(m['license']).toBe('MIT');
    expect(existsSync(join(pkgDir(p), 'LICENSE')), 'a LICENSE file in the package').toBe(true);
    expect(m['type']).toBe('module');
    expect(m['sideEffects']).toBe(false);
    expect(m['files']).toEqual(expect.arrayContaining(['dist']));
    expect((m['engines'] as { node?: string }).node).toBe('>=20.19');
    expect(m['repository']).toMatchObject({ type: 'git', directory: `packages/${p.dir}` });
    expect(typeof m['homepage']).toBe('string');
    expect(m['bugs']).toBeTruthy();
    expect((m['keywords'] as string[]).length).toBeGreaterThan(0);
    if (p.dir !== 'core') expect(m.dependencies?.['@org/core']).toBe('workspace:^');
    for (const [dep, range] of Object.entries({ ...m.dependencies, ...m.peerDependencies })) {
      if (dep.startsWith('@org/')) expect(range, dep).toBe('workspace:^');
    }
    // Every export branch lists its types first, for both module systems.
    for (const [key, branch] of Object.entries(m.exports)) {
      if (key.endsWith('.json')) continue;
      for (const cond of ['import', 'require'] as const) {
        const b = (branch as Record<string, Record<string, string>>)[cond];
        expect(Object.keys(b ?? {})[0], `${key} ${cond}`).toBe('types');
      }
    }
  });
});

describe('error codes and guards', () => {
  it('no prefix starts another, nor a reserved one', () => {
    const all = [...PACKAGES.map((p) => p.prefix), ...RESERVED_PREFIXES];
    for (const a of all) {
      for (const b of all)
        if (a !== b) expect(`${b}_`.startsWith(`${a}_`), `${a} / ${b}`).toBe(false);
    }
  });

  it.each(PACKAGES.map((p) => [p.dir, p] as const))('%s', async (_, p) => {
    const mod = await load(p);
    const codes = mod[p.codes] as Record<string, string> | undefined;
    expect(codes, `${p.codes} is exported`).toBeTypeOf('object');
    const pattern = new RegExp(`^ERR_${p.prefix}_[A-Z0-9]+(_[A-Z0-9]+)*$`);
    const values = Object.entries(codes ?? {});
    expect(values.length).toBeGreaterThan(0);
    for (const [key, value] of values) {
      expect(key, `${p.codes} key`).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      if (p.dir === 'core' && SHARED_CODES.includes(value)) continue;
      expect(value, `${p.codes}.${key}`).toMatch(pattern);
    }
    expect(new Set(values.map(([, v]) => v)).size, 'codes are distinct').toBe(values.length);
    if (p.dir !== 'core') {
      expect(Object.values(codes ?? {}), 'a bad option has its code').toContain(
        `ERR_${p.prefix}_INVALID_OPTION`,
      );
    }

    const guard = mod[p.guard] as (err: unknown, code?: string) => boolean;
    expect(guard, `${p.guard} is exported`).toBeTypeOf('function');
    const [first] = Object.values(codes ?? {}).filter((c) => c.startsWith(`ERR_${p.prefix}_`));
    // An error from another copy of the package: another class, the same brand.
    const foreign = Object.assign(new Error('from another copy'), { code: first });
    Object.defineProperty(foreign, Symbol.for('@org/core.error'), { value: true });
    expect(guard(foreign), 'the guard crosses copies').toBe(true);
    expect(guard(foreign, first)).toBe(true);
    expect(guard(Object.assign(new Error('look-alike'), { code: first })), 'brand needed').toBe(
      false,
    );
    if (p.dir !== 'core') expect(guard(new OrgError('ERR_OTHER_X', 'x'))).toBe(false);
  });
});

describe('sources keep to core', () => {
  const rules: [string, RegExp, ((f: string) => boolean)?][] = [
    ['no error base of its own', /class\s+\w+\s+extends\s+(Error|TypeError|RangeError)\b/],
    ['throws no bare Error', /\bnew\s+(Error|TypeError|RangeError|SyntaxError)\s*\(/],
    ['no diagnostics channel of its own', /node:diagnostics_channel/],
    // An error brand is core's; a registered symbol for a process-wide registry is not a brand.
    ['no error brand of its own', /Symbol\.for\(['"][^'"]*[Ee]rror/],
    [
      'no emitter of its own',
      /\b(class\s+\w*Emitter\b(?!\s+extends\s+Emitter)|function\s+createEmitter\b)/,
    ],
    ['no duration parser of its own', /\b(seconds|minutes|hours|days)\s*:\s*\d/],
  ];
  for (const p of others) {
    describe(p.dir, () => {
      it.each(rules.map(([name, re, allow]) => [name, re, allow] as const))(
        '%s',
        (_, re, allow) => {
          const hits = scan(p, re, allow);
          expect(hits, hits.join('\n')).toEqual([]);
        },
      );
    });
  }

  it.each(others.map((p) => [p.dir, p] as const))(
    '%s reads the environment only in *FromEnv factories and CLIs',
    (_, p) => {
      const hits: string[] = [];
      for (const file of sourceFiles(join(pkgDir(p), 'src'))) {
        const rel = relative(pkgDir(p), file);
        if (/(^|\/)cli[^/]*\.ts$/.test(rel)) continue;
        const text = readFileSync(file, 'utf8');
        const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
        const visit = (node: ts.Node) => {
          if (
            ts.isPropertyAccessExpression(node) &&
            node.name.text === 'env' &&
            node.expression.getText(sf) === 'process' &&
            !enclosingNames(node).some((n) => /FromEnv$/.test(n))
          ) {
            hits.push(`${rel}:${sf.getLineAndCharacterOfPosition(node.pos).line + 1}`);
          }
          ts.forEachChild(node, visit);
        };
        visit(sf);
      }
      expect(hits, hits.join('\n')).toEqual([]);
    },
  );
});

function enclosingNames(node: ts.Node): string[] {
  const names: string[] = [];
  for (let n: ts.Node | undefined = node; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.name) {
      names.push(n.name.getText());
    }
    if (ts.isVariableDeclaration(n)) names.push(n.name.getText());
  }
  return names;
}

// Option names that are lengths of time, and unit suffixes an option must not carry.
const TIME_NAME =
  /(^|[a-z])(timeout|ttl|grace|gracePeriod|interval|delay|period|window|expiresIn|deadline|maxAge|backoff|duration|lifetime|staleness)$/i;
const UNIT_SUFFIX = /[a-z](Ms|Millis|Milliseconds|Secs?|Seconds|Minutes|Hours|Days)$/;
// Time-like names that are not Duration options, each with its reason.
const NOT_DURATIONS = new Map<string, string>([
  [
    'packages/core/src/index.ts:WithTimeoutOptions.timeoutMs',
    'a primitive packages call with milliseconds already parsed from their own Duration option; parsing on each call would tax every hot path',
  ],
]);

describe('duration options', () => {
  it('every duration option of every public *Options type takes a Duration', () => {
    const entries: string[] = [];
    for (const p of PACKAGES) {
      for (const key of Object.keys(manifest(p).exports)) {
        if (key.endsWith('.json')) continue;
        entries.push(join(pkgDir(p), 'src', `${key === '.' ? 'index' : key.slice(2)}.ts`));
      }
    }
    const base = ts.readConfigFile(join(root, 'tsconfig.base.json'), ts.sys.readFile).config;
    const { options } = ts.convertCompilerOptionsFromJson(base.compilerOptions, root);
    const program = ts.createProgram(entries, { ...options, noEmit: true });
    const checker = program.getTypeChecker();
    const coreIndex = program.getSourceFile(join(root, 'packages/core/src/index.ts'))!;
    const coreExports = checker.getExportsOfModule(checker.getSymbolAtLocation(coreIndex)!);
    const durationString = checker.getDeclaredTypeOfSymbol(
      checker.getAliasedSymbol(coreExports.find((s) => s.name === 'DurationString')!),
    );

    const problems: string[] = [];
    const seen = new Set<ts.Type>();
    const ours = (t: ts.Type) =>
      (t.getSymbol() ?? t.aliasSymbol)?.declarations?.some((d) =>
        d.getSourceFile().fileName.includes('/packages/'),
      ) ?? false;
    const walk = (type: ts.Type, path: string) => {
      if (seen.has(type)) return;
      seen.add(type);
      for (const prop of checker.getPropertiesOfType(type)) {
        const name = prop.getName();
        const where = `${path}.${name}`;
        const decl = prop.declarations?.[0];
        if (!decl?.getSourceFile().fileName.includes('/packages/')) continue;
        const propType = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
        if (NOT_DURATIONS.has(where)) continue;
        if (UNIT_SUFFIX.test(name) && propType.getCallSignatures().length === 0) {
          problems.push(`${where}: an option is named without a unit suffix (use a Duration)`);
        }
        if (TIME_NAME.test(name)) {
          const isFn = propType.getCallSignatures().length > 0;
          if (!isFn && !checker.isTypeAssignableTo(durationString, propType)) {
            problems.push(`${where}: ${checker.typeToString(propType)} does not take a Duration`);
          }
        }
        const parts = propType.isUnion() ? propType.types : [propType];
        for (const part of parts) {
          if (
            part.flags & ts.TypeFlags.Object &&
            part.getCallSignatures().length === 0 &&
            ours(part)
          ) {
            walk(part, where);
          }
        }
      }
    };
    for (const file of entries) {
      const sf = program.getSourceFile(file);
      const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
      if (!moduleSymbol) continue;
      for (const exported of checker.getExportsOfModule(moduleSymbol)) {
        const symbol =
          exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
        if (!/Options$/.test(symbol.getName())) continue;
        if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias))) continue;
        walk(
          checker.getDeclaredTypeOfSymbol(symbol),
          `${relative(root, file)}:${symbol.getName()}`,
        );
      }
    }
    const unique = [...new Set(problems)];
    expect(unique, unique.join('\n')).toEqual([]);
  });
});

describe('at run time', () => {
  it.each(RUNTIME.map((r) => [r.name, r] as const))('%s', async (_, r) => {
    const mod = await import(r.module);
    // A bad option is the package's own coded error, naming the option.
    for (const bad of r.badOptions) {
      let thrown: unknown;
      try {
        await bad.run(mod);
      } catch (err) {
        thrown = err;
      }
      expect(
        isOrgError(thrown, `ERR_${r.prefix}_INVALID_OPTION`),
        `${bad.what}: ${String(thrown)}`,
      ).toBe(true);
      expect((thrown as Error).message).toContain(bad.names);
    }
    // close() releases, returns a promise and can be called twice.
    if (r.make) {
      const obj = (await r.make(mod)) as { close?: () => unknown; on?: unknown };
      expect(obj.close, 'close()').toBeTypeOf('function');
      const first = obj.close?.();
      expect(first).toBeInstanceOf(Promise);
      await first;
      await obj.close?.();
      if (r.events) {
        const on = obj.on as (e: string, l: () => void) => unknown;
        const off = on.call(obj, r.events, () => {});
        expect(off, 'on() returns an unsubscribe function').toBeTypeOf('function');
        (off as () => void)();
      }
    }
  });
});
