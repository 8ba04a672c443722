// The build-time pieces on their own: README inclusion, the benchmark table reader, the chart's
// scale and the link checker.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLinks } from '../.vitepress/lib/anchors.js';
import { benchCharts } from '../.vitepress/lib/bench.js';
import {
  expandDirectives,
  repoRoot,
  rewriteLinks,
  section,
  siteLink,
  slug,
  splitReadme,
  withBenchChart,
} from '../.vitepress/lib/readme.js';
import { ratioScale } from '../.vitepress/theme/chart-scale.js';

const readme = [
  '# @org/x',
  '',
  'What it is for.',
  '',
  '```sh',
  '# a comment, not a heading',
  '```',
  '',
  '## Use',
  '',
  'See [the contract](../../CONTRIBUTING.md), [core](../core), [a file](src/a.ts) and [errors](#errors).',
  '',
  '## Benchmark',
  '',
  'text',
  '',
  '## Errors',
  '',
  'codes',
].join('\n');
const from = join(repoRoot, 'packages', 'x', 'README.md');

describe('README inclusion', () => {
  it('splits at the first ## outside code', () => {
    const { intro, body } = splitReadme(readme);
    expect(intro).toContain('# a comment, not a heading');
    expect(intro).not.toContain('## Use');
    expect(body.startsWith('## Use')).toBe(true);
  });

  it('finds a section by its slug and stops at the next heading', () => {
    const s = section(readme, /^##\s+(.*)$/, (h) => slug(h) === 'benchmark');
    expect(s).toBe('## Benchmark\n\ntext\n');
    expect(slug('Options of `createBreaker(fn, options)`')).toBe(
      'options-of-createbreaker-fn-options',
    );
  });

  it('rewrites links for the site, and anchors of a part shown elsewhere to the guide', () => {
    expect(siteLink('../core', from)).toBe('/guide/core');
    expect(siteLink('../../CONTRIBUTING.md#3-errors', from)).toBe('/contract#3-errors');
    expect(siteLink('src/a.ts', from)).toBe(
      'https://github.com/org/sdk/blob/main/packages/x/src/a.ts',
    );
    expect(siteLink('https://example.com/', from)).toBe('https://example.com/');
    const body = splitReadme(readme).body;
    expect(rewriteLinks(body, from)).toContain('[errors](#errors)');
    expect(rewriteLinks(body, from, '/guide/x')).toContain('[errors](/guide/x#errors)');
    expect(rewriteLinks('```md\n[keep](../core)\n```', from)).toContain('(../core)');
  });

  it('puts the chart under the benchmark heading only', () => {
    const out = withBenchChart(readme, 'x');
    expect(out).toContain('## Benchmark\n\n<BenchChart pkg="x" />');
    expect(out.match(/<BenchChart/g)).toHaveLength(1);
  });

  it('expands directives, and fails loudly on a section that is not there', () => {
    const page = expandDirectives('<!--@readme: cache#intro-->');
    expect(page).toMatch(/^# @org\/cache/);
    expect(() => expandDirectives('<!--@readme: cache#no-such-heading-->')).toThrow(
      /names no section/,
    );
    expect(() => expandDirectives('<!--@source: NOPE.md-->')).toThrow(/names no file/);
    expect(expandDirectives('<!--@readme: not-a-package#intro-->')).toContain(
      'has not been written yet',
    );
  });
});

describe('benchmark tables', () => {
  it('reads a ratio column with a range column beside it', () => {
    const [chart] = benchCharts(
      '| operation (anchor) | ratio | range |\n|---|---:|---|\n| `a` vs `b` | 1.06 | 0.99–1.10 |\n| **c** | 0.42 | 0.40–0.43 |\n',
    );
    expect(chart).toEqual({
      title: 'ratio',
      subject: 'operation (anchor)',
      rows: [
        { label: 'a vs b', value: 1.06, min: 0.99, max: 1.1 },
        { label: 'c', value: 0.42, min: 0.4, max: 0.43 },
      ],
    });
  });

  it('takes two text columns as the label, a range in the cell, and skips empty cells', () => {
    const [chart] = benchCharts(
      [
        '| scenario | library | ops/s | ops/s vs better anchor (median; min–max) |',
        '|---|---|---:|---:|',
        '| L1 hit | @org/cache | 383,355 | **2.19×** (1.23–3.22) |',
        '| L1 hit | bentocache | 129,034 |  |',
      ].join('\n'),
    );
    expect(chart?.rows).toEqual([
      { label: 'L1 hit · @org/cache', value: 2.19, min: 1.23, max: 3.22 },
    ]);
  });

  it('makes one chart per ratio column, ignores n/a, throughput and percent columns', () => {
    const charts = benchCharts(
      [
        '| size | op | ours MiB/s | vs fernet (npm) | vs Python | of openssl limit |',
        '|---|---|---|---|---|---|',
        '| 1 MiB | encrypt | 339 | 89.51x | 2.28x | 56 % |',
        '| 256 MiB | encrypt | 221 | n/a | 4.10x | 37 % |',
      ].join('\n'),
    );
    expect(charts.map((c) => c.title)).toEqual(['vs fernet (npm)', 'vs Python']);
    expect(charts[0]?.rows).toEqual([{ label: '1 MiB · encrypt', value: 89.51 }]);
    expect(charts[1]?.rows.map((r) => r.value)).toEqual([2.28, 4.1]);
  });

  it('draws nothing from a table without a ratio', () => {
    expect(benchCharts('| store | peak RSS |\n|---|---|\n| memory | 313 MiB |\n')).toEqual([]);
  });
});

describe('the chart scale', () => {
  it('is logarithmic around parity, with 1× among the ticks', () => {
    const s = ratioScale([0.5, 2]);
    expect(s.x(1) - s.x(0.5)).toBeCloseTo(s.x(2) - s.x(1), 6);
    expect(s.ticks).toContain(1);
    const wide = ratioScale([0.06, 137.77]);
    expect(wide.x(137.77)).toBeLessThanOrEqual(100);
    expect(wide.x(0.06)).toBeGreaterThanOrEqual(0);
    expect(wide.ticks.length).toBeLessThanOrEqual(6);
  });
});

describe('the link checker', () => {
  it('reports a missing page and a missing anchor, and accepts the rest', () => {
    const out = mkdtempSync(join(tmpdir(), 'docs-links-'));
    mkdirSync(join(out, 'guide'));
    writeFileSync(
      join(out, 'index.html'),
      '<a href="/guide/a.html#use">ok</a><a href="/guide/a#use">clean url</a><a href="./guide/a.html#gone">x</a><a href="/missing.html">y</a><a href="https://example.com/#z">ext</a><a href="/logo.svg">asset</a><a href="#top">self</a><h1 id="top">t</h1>',
    );
    writeFileSync(
      join(out, 'guide', 'a.html'),
      '<h2 id="use">Use</h2><a href="../index.html#top">up</a>',
    );
    expect(checkLinks(out)).toEqual([
      { page: '/index.html', href: './guide/a.html#gone', reason: 'no such anchor' },
      { page: '/index.html', href: '/missing.html', reason: 'no such page' },
    ]);
  });
});
