// Build-time inclusion of repository Markdown (each package's README, CONTRIBUTING.md) into the
// site's pages, so a guide cannot drift from the README it shows: nothing is pasted, every build
// reads the files again.
//
//   <!--@readme: cache#intro-->   the README's opening: its title and what it is for
//   <!--@readme: cache#summary--> the same without the title, for another page
//   <!--@readme: cache#body-->    everything from its first `##` heading on
//   <!--@readme: cache-->         the whole README
//   <!--@readme: cache#how-it-behaves-->   one `##` section, by its heading's slug
//   <!--@source: CONTRIBUTING.md-->   any Markdown file of the repository, by its path
//   <!--@source: README.md#quick-start-->   one `##` section of it, by its heading's slug
//
// Relative links are rewritten for the site (another package's README → its guide,
// CONTRIBUTING.md → the contract page, any other file → the repository), and a `<BenchChart>`
// is placed under the README's benchmark heading.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const docsRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = resolve(docsRoot, '..');
export const repoUrl = 'https://github.com/org/sdk/blob/main';

/** The packages that get a guide, in the order of the sidebar. */
export const guidePackages = [
  'core',
  'resilience',
  'cache',
  'storage',
  'health',
  'key-rotation',
  'backup-crypto',
  'backup',
  'rate-limit',
  'secrets',
  'alerts',
] as const;

export const readmePath = (pkg: string) => join(repoRoot, 'packages', pkg, 'README.md');

/** A heading that opens a README's benchmark section. */
export const benchHeading = /^##\s+(Benchmarks?|Bench)\s*$/;

/** The lines of `md` with, for each, whether it sits inside a fenced code block. */
function linesWithFences(md: string): { line: string; code: boolean }[] {
  let fence: string | undefined;
  return md.split(/\r?\n/).map((line) => {
    const open = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === undefined && open) {
      fence = open[1]!;
      return { line, code: true };
    }
    if (fence !== undefined) {
      if (open && open[1]!.startsWith(fence) && line.trim() === open[1]) fence = undefined;
      return { line, code: true };
    }
    return { line, code: false };
  });
}

/** Splits a README at its first `##` heading (outside code): the intro and the body. */
export function splitReadme(md: string): { intro: string; body: string } {
  const lines = linesWithFences(md);
  const at = lines.findIndex((l) => !l.code && /^##\s/.test(l.line));
  const cut = at === -1 ? lines.length : at;
  return {
    intro: lines
      .slice(0, cut)
      .map((l) => l.line)
      .join('\n'),
    body: lines
      .slice(cut)
      .map((l) => l.line)
      .join('\n'),
  };
}

/** A heading's slug as the site makes it, near enough to name sections (`Quick start` → `quick-start`). */
export const slug = (heading: string) =>
  heading
    .replace(/[`*_]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The lines of one `##` section (its heading included), or undefined. */
export function section(
  md: string,
  heading: RegExp,
  accept: (text: string) => boolean = () => true,
): string | undefined {
  const lines = linesWithFences(md);
  const start = lines.findIndex((l) => {
    const m = l.code ? null : heading.exec(l.line);
    return m !== null && accept(m[1] ?? '');
  });
  if (start === -1) return undefined;
  let end = lines.findIndex((l, i) => i > start && !l.code && /^##?\s/.test(l.line));
  if (end === -1) end = lines.length;
  return lines
    .slice(start, end)
    .map((l) => l.line)
    .join('\n');
}

/** Where a relative link of a repository file points on the site (or in the repository). */
export function siteLink(target: string, fromFile: string): string {
  if (/^([a-z][a-z0-9+.-]*:|#|\/)/i.test(target)) return target;
  const [path = '', hash] = target.split('#');
  const abs = resolve(dirname(fromFile), path);
  const rel = relative(repoRoot, abs).replace(/\\/g, '/');
  const fragment = hash ? `#${hash}` : '';
  const pkg = /^packages\/([^/]+)(?:\/README\.md)?\/?$/.exec(rel)?.[1];
  if (pkg && (guidePackages as readonly string[]).includes(pkg)) return `/guide/${pkg}${fragment}`;
  if (rel === 'CONTRIBUTING.md') return `/contract${fragment}`;
  return `${repoUrl}/${rel}${fragment}`;
}

/**
 * Rewrites the relative links and images of Markdown read from `fromFile`. `anchorsOn` is the
 * page that holds the whole file, for a part included elsewhere: its `#anchor` links point there.
 */
export function rewriteLinks(md: string, fromFile: string, anchorsOn?: string): string {
  return linesWithFences(md)
    .map(({ line, code }) =>
      code
        ? line
        : line.replace(
            /(!?\[[^\]]*\]\()([^)\s]+)((?:\s+"[^"]*")?\))/g,
            (_, open: string, target: string, close: string) =>
              `${open}${anchorsOn && target.startsWith('#') ? `${anchorsOn}${target}` : siteLink(target, fromFile)}${close}`,
          ),
    )
    .join('\n');
}

/** Puts `<BenchChart pkg="…"/>` under the benchmark heading of a README's body. */
export function withBenchChart(md: string, pkg: string): string {
  return linesWithFences(md)
    .map(({ line, code }) =>
      !code && benchHeading.test(line) ? `${line}\n\n<BenchChart pkg="${pkg}" />\n` : line,
    )
    .join('\n');
}

function readmePart(pkg: string, part: string | undefined): string {
  const file = readmePath(pkg);
  if (!existsSync(file)) {
    if (part === 'body') return '';
    if (part === 'summary') {
      return `::: info\nThe README of \`@org/${pkg}\` has not been written yet; this part of the page includes it from the next build after it lands.\n:::`;
    }
    return [
      `# @org/${pkg}`,
      '',
      '::: info This guide is its README',
      `The README of \`@org/${pkg}\` has not been written yet. This page includes it, with its`,
      'benchmark chart, from the next build after it lands.',
      ':::',
    ].join('\n');
  }
  const md = readFileSync(file, 'utf8');
  const { intro, body } = splitReadme(md);
  // The intro without its `# title` line: a README's opening, for another page.
  const summary = intro.replace(/^#\s.*\n/, '').trim();
  let chosen =
    part === 'intro' ? intro : part === 'body' ? body : part === 'summary' ? summary : md;
  if (part && !['intro', 'body', 'summary'].includes(part)) {
    const found = section(md, /^##\s+(.*)$/, (heading) => slug(heading) === part);
    // A heading renamed in the README fails the build here instead of leaving a hole.
    if (found === undefined) throw new Error(`<!--@readme: ${pkg}#${part}--> names no section`);
    chosen = found;
  }
  // The guide holds the whole README (intro and body); a part shown elsewhere links back to it.
  const whole = part === undefined || part === 'intro' || part === 'body';
  return rewriteLinks(withBenchChart(chosen, pkg), file, whole ? undefined : `/guide/${pkg}`);
}

const directive = /<!--\s*@(readme|source):\s*([^#\s]+?)(?:#([\w-]+))?\s*-->/g;

/** Expands every `@readme` and `@source` directive of a page's Markdown. */
export function expandDirectives(src: string): string {
  return src.replace(directive, (_, kind: string, name: string, part: string | undefined) => {
    if (kind === 'readme') return readmePart(name, part);
    const file = join(repoRoot, name);
    if (!existsSync(file)) throw new Error(`<!--@source: ${name}--> names no file`);
    const md = readFileSync(file, 'utf8');
    if (!part) return rewriteLinks(md, file);
    const found = section(md, /^##\s+(.*)$/, (heading) => slug(heading) === part);
    if (found === undefined) throw new Error(`<!--@source: ${name}#${part}--> names no section`);
    return rewriteLinks(found, file);
  });
}

/** The repository files a page's directives read (for the dev server to watch). */
export function directiveFiles(src: string): string[] {
  return [...src.matchAll(directive)].map(([, kind, name]) =>
    kind === 'readme' ? readmePath(name!) : join(repoRoot, name!),
  );
}
