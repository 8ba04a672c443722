// Checks the built site's internal links: each `<a href>` that stays on the site must name a
// page that was built and, when it has a `#fragment`, an element with that id on that page.
// VitePress fails the build on a dead page link; this catches the dead anchors it lets through
// (a renamed heading, an anchor into a README section that moved). Run from `buildEnd`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';

export interface LinkProblem {
  /** The page the link is on, as a path of the built site (`/guide/cache.html`). */
  page: string;
  href: string;
  reason: 'no such page' | 'no such anchor';
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const decodeEntities = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => entities[e] ?? _);

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.html'))
    .map((e) => join(e.parentPath, e.name));
}

/** The ids (and legacy `name`s) an HTML page defines. */
export function idsOf(html: string): Set<string> {
  const ids = new Set<string>();
  for (const m of html.matchAll(/\s(?:id|name)="([^"]*)"/g)) ids.add(decodeEntities(m[1]!));
  return ids;
}

/** The `href`s of the `<a>` elements of an HTML page. */
export function linksOf(html: string): string[] {
  return [...html.matchAll(/<a\s[^>]*?href="([^"]*)"/g)].map((m) => decodeEntities(m[1]!));
}

/** The built page a site path resolves to, if any (`/guide/cache` and `/guide/` included). */
function pageFor(path: string, pages: Map<string, Set<string>>): string | undefined {
  const candidates = path.endsWith('/')
    ? [`${path}index.html`]
    : [path, `${path}.html`, `${path}/index.html`];
  return candidates.find((c) => pages.has(c));
}

/** Every broken internal link of the site built in `outDir` (served at `base`). */
export function checkLinks(outDir: string, base = '/'): LinkProblem[] {
  const pages = new Map<string, Set<string>>();
  const links = new Map<string, string[]>();
  for (const file of htmlFiles(outDir)) {
    const page = `/${relative(outDir, file).split(/[\\/]/).join('/')}`;
    const html = readFileSync(file, 'utf8');
    pages.set(page, idsOf(html));
    links.set(page, linksOf(html));
  }
  const problems: LinkProblem[] = [];
  for (const [page, hrefs] of links) {
    for (const href of hrefs) {
      if (href === '' || /^[a-z][a-z0-9+.-]*:|^\/\//i.test(href)) continue;
      const [rawPath = '', rawHash] = href.split('#');
      const fragment = rawHash === undefined ? '' : decodeURIComponent(rawHash);
      let path = rawPath.split('?')[0]!;
      if (path === '') path = page;
      else if (!path.startsWith('/')) path = posix.join(posix.dirname(page), path);
      else if (base !== '/' && path.startsWith(base)) path = `/${path.slice(base.length)}`;
      path = decodeURIComponent(path);
      if (!path.endsWith('.html') && !path.endsWith('/') && posix.extname(path) !== '') continue;
      const target = pageFor(path, pages);
      if (!target) {
        problems.push({ page, href, reason: 'no such page' });
      } else if (fragment !== '' && !pages.get(target)!.has(fragment)) {
        problems.push({ page, href, reason: 'no such anchor' });
      }
    }
  }
  return problems;
}

export function formatProblems(problems: LinkProblem[]): string {
  return problems.map((p) => `  ${p.page}: ${p.href} (${p.reason})`).join('\n');
}

/**
 * VitePress's `buildEnd` hook: throws (failing the build) when a link of the built site names a
 * page or an anchor that is not there. Shared by the site's config and the tests' fixture sites.
 */
export async function failOnBrokenLinks(site: {
  outDir: string;
  site: { base: string };
  logger: { info(msg: string): void };
}): Promise<void> {
  const problems = checkLinks(site.outDir, site.site.base);
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} broken internal link(s) in the built site:\n${formatProblems(problems)}`,
    );
  }
  site.logger.info('link check: every internal link and anchor of the built site resolves');
}
