// The site builds with no network, fails on a dead link or a dead anchor, includes every README
// it promises, and draws each README's benchmark ratios.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import config from '../.vitepress/config.js';
import { checkLinks, failOnBrokenLinks } from '../.vitepress/lib/anchors.js';
import { packageBenchCharts } from '../.vitepress/lib/bench.js';
import { guidePackages, readmePath, splitReadme } from '../.vitepress/lib/readme.js';
import { docsDir as docsRoot, sitePages } from '../scripts/runnable.js';
import { artifactsDir, buildSite } from './support/build-site.js';

const run = promisify(execFile);
const site = inject('site');
const html = (page: string) => readFileSync(join(site.outDir, page), 'utf8');

function files(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => ext.test(f))
    .map((f) => join(dir, f));
}

describe('the build', () => {
  it('succeeds with every network connection and DNS lookup refused', () => {
    expect(site.ok, site.output.slice(-4000)).toBe(true);
    expect(site.networkAttempts).toEqual([]);
    console.log(`docs build (typedoc + vitepress): ${(site.durationMs / 1000).toFixed(1)} s`);
  });

  it('runs under a guard that does refuse the network (so the test above can fail)', async () => {
    const guard = fileURLToPath(new URL('./support/no-network.mjs', import.meta.url));
    const log = join(artifactsDir, 'guard-check.network.log');
    rmSync(log, { force: true });
    const probe = `
      const net = await import('node:net');
      const dns = await import('node:dns/promises');
      const dnsErr = await dns.lookup('fonts.googleapis.com').then(() => 'resolved', (e) => e.code);
      const sock = net.connect(443, '151.101.1.1');
      const sockErr = await new Promise((r) => sock.on('error', (e) => r(e.message)).on('connect', () => r('connected')));
      console.log(JSON.stringify({ dnsErr, sockErr }));`;
    const { stdout } = await run(
      process.execPath,
      ['--import', guard, '--input-type=module', '-e', probe],
      { env: { ...process.env, ORG_NO_NETWORK_LOG: log } },
    );
    const result = JSON.parse(stdout) as { dnsErr: string; sockErr: string };
    expect(result.dnsErr).toBe('ENOTFOUND');
    expect(result.sockErr).toMatch(/network access refused/);
    expect(readFileSync(log, 'utf8')).toMatch(/fonts\.googleapis\.com[\s\S]*151\.101\.1\.1/);
  });

  it('loads nothing from another host: no CDN, no web fonts, no hosted search', () => {
    const offenders: string[] = [];
    for (const file of files(site.outDir, /\.html$/)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(
        /<(?:script|link|img|iframe)\b[^>]*?\s(?:src|href)="(https?:)?\/\/[^"]*"/g,
      )) {
        offenders.push(`${file}: ${m[0]}`);
      }
    }
    for (const file of files(site.outDir, /\.css$/)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/url\(\s*['"]?(https?:)?\/\/[^)]*\)|@import\s+['"]https?:/g)) {
        offenders.push(`${file}: ${m[0]}`);
      }
    }
    const all = files(site.outDir, /\.(html|js)$/)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(all).not.toMatch(
      /fonts\.googleapis\.com|fonts\.gstatic\.com|algolia\.net|algolianet\.com/,
    );
    expect(offenders).toEqual([]);
  });

  it('leaves no internal link or anchor dangling', () => {
    expect(checkLinks(site.outDir)).toEqual([]);
    expect(config.ignoreDeadLinks).toBe(false);
    expect(config.buildEnd).toBe(failOnBrokenLinks);
  });
});

describe('the guides', () => {
  it.each(guidePackages.filter((p) => existsSync(readmePath(p))))(
    '%s includes its README and draws each of its benchmark ratio tables',
    (pkg) => {
      const page = html(`guide/${pkg}.html`);
      const readme = readFileSync(readmePath(pkg), 'utf8');
      // Every `##` heading of the README is a heading of the guide.
      const headings = [...splitReadme(readme).body.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
      expect(headings.length).toBeGreaterThan(0);
      const text = page
        .replace(/<[^>]+>/g, '')
        .replace(/&amp;/g, '&')
        .replace(/&#39;/g, "'");
      for (const h of headings) expect(text).toContain(h.replace(/`/g, '').replace(/\*\*/g, ''));
      const charts = packageBenchCharts(pkg);
      expect(page.match(/class="bench-chart"/g)?.length ?? 0).toBe(charts.length);
      // A README whose benchmark section has no ratio table yet gets a note, not an empty chart.
      if (charts.length === 0) expect(page).toContain('bench-empty');
      // Each bar is labelled with the README's figure, e.g. "2.19×".
      for (const row of charts.flatMap((c) => c.rows)) {
        expect(page).toContain(
          `${row.label.replace(/&/g, '&amp;').replace(/'/g, '&#39;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}:`,
        );
      }
    },
  );

  it('links the metrics page from the nav and the sidebar once it exists', () => {
    const linked = /href="\/operations\/metrics\.html"/.test(html('operations/monitoring.html'));
    expect(linked).toBe(existsSync(join(docsRoot, 'operations', 'metrics.md')));
  });

  it('has a page for a package whose README has not landed, which says so', () => {
    const missing = guidePackages.filter((p) => !existsSync(readmePath(p)));
    for (const pkg of missing)
      expect(html(`guide/${pkg}.html`)).toContain('has not been written yet');
  });

  it('has an API reference generated from the sources, one page per public entry point', () => {
    const index = html('api/index.html');
    for (const pkg of guidePackages) {
      if (!existsSync(join(dirname(readmePath(pkg)), 'src', 'index.ts'))) continue;
      expect(index).toContain(`@org/${pkg}`);
      expect(readdirSync(join(site.outDir, 'api'))).toContain(`${pkg}.html`);
    }
  });
});

describe('code included from the examples', () => {
  it('names files and #regions that exist (VitePress would include a whole file instead)', () => {
    const missing: string[] = [];
    let count = 0;
    for (const page of sitePages()) {
      const md = readFileSync(page, 'utf8');
      for (const m of md.matchAll(
        /^<<< @\/(\S+?)(?:#([\w-]+))?(?:\{[^}]*\})?(?:\s+\[[^\]]*\])?\s*$/gm,
      )) {
        count++;
        const file = join(docsRoot, m[1]!);
        if (!existsSync(file)) missing.push(`${page}: ${m[1]} (no such file)`);
        else if (m[2] && !new RegExp(`#region ${m[2]}\\b`).test(readFileSync(file, 'utf8'))) {
          missing.push(`${page}: ${m[1]}#${m[2]} (no such region)`);
        }
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});

// The real site, built above with the same config, is the case where every link resolves.
describe('a fixture site with the same checks', () => {
  const fixtures = join(artifactsDir, 'fixtures');
  const anchors = fileURLToPath(new URL('../.vitepress/lib/anchors.ts', import.meta.url));

  async function buildFixture(name: string, pages: Record<string, string>) {
    const root = join(fixtures, name);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, '.vitepress'), { recursive: true });
    writeFileSync(
      join(root, '.vitepress', 'config.mts'),
      `import { defineConfig } from 'vitepress';\nimport { failOnBrokenLinks } from ${JSON.stringify(anchors)};\nexport default defineConfig({ ignoreDeadLinks: false, buildEnd: failOnBrokenLinks });\n`,
    );
    for (const [file, text] of Object.entries(pages)) writeFileSync(join(root, file), text);
    return buildSite(root, { outDir: join(root, 'dist'), logName: `fixture-${name}` });
  }

  const target = '# B\n\n## Present\n\ntext\n';

  it.concurrent('fails on a link to a page that does not exist', async () => {
    const r = await buildFixture('dead-link', {
      'index.md': '# Home\n\n[gone](./missing-page)\n',
      'b.md': target,
    });
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/dead link/i);
  });

  it.concurrent('fails on a link to an anchor that does not exist', async () => {
    const r = await buildFixture('dead-anchor', {
      'index.md': '# Home\n\n[b](./b#absent-section)\n',
      'b.md': target,
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('/b.html#absent-section (no such anchor)');
  });
});
