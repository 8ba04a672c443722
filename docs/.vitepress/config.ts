import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DefaultTheme, defineConfig } from 'vitepress';
import { failOnBrokenLinks } from './lib/anchors.js';
import { directiveFiles, docsRoot, expandDirectives, guidePackages } from './lib/readme.js';

const guideTitles: Record<(typeof guidePackages)[number], string> = {
  core: 'core: the shared contract',
  resilience: 'resilience: breakers and retry',
  cache: 'cache: two tiers over Redis',
  storage: 'storage: S3, R2, local disk',
  health: 'health: checks and probes',
  'key-rotation': 'key-rotation: JWT key rings',
  'backup-crypto': 'backup-crypto: Fernet',
  backup: 'backup: scheduled backups',
  'rate-limit': 'rate-limit: tiers and 429s',
  secrets: 'secrets: env and Secrets Manager',
  alerts: 'alerts: Sentry without blocking',
};

// The metrics page is written apart from this site; it joins the menus once it exists, so the
// build's link check never meets a link to a page that is not there yet.
const hasMetrics = existsSync(join(docsRoot, 'operations', 'metrics.md'));

const operations: DefaultTheme.SidebarItem[] = [
  { text: 'What to monitor', link: '/operations/monitoring' },
  ...(hasMetrics ? [{ text: 'Metrics', link: '/operations/metrics' }] : []),
  { text: 'Health checks explained', link: '/operations/health-checks' },
  { text: 'Rotating keys', link: '/operations/rotating-keys' },
];

const recipes: DefaultTheme.SidebarItem[] = [
  { text: 'An API route: breaker, cache, rate limit', link: '/recipes/api-route' },
  { text: 'A breaker that alerts Sentry', link: '/recipes/alerted-breaker' },
  { text: 'Key rotation across three instances', link: '/recipes/key-rotation-instances' },
  { text: 'Three instances, one state', link: '/recipes/several-instances' },
  { text: 'Nightly backups, monthly restore', link: '/recipes/nightly-backups' },
];

/** The generated reference (api/, written by typedoc before the build), one entry per module. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  const dir = join(docsRoot, 'api');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md') && f !== 'index.md')
    .map((f) => f.replace(/\\/g, '/').replace(/\.md$/, ''))
    .sort()
    .map((f) => ({ text: `@org/${f}`, link: `/api/${f}` }));
}

export default defineConfig({
  lang: 'en-GB',
  title: '@org SDK',
  description:
    'Small TypeScript packages that keep a production Node service up: breakers, cache, storage, health checks, key rotation, backup encryption, rate limits, secrets and alerts.',
  srcExclude: ['test/**', 'scripts/**', '.artifacts/**', '.runnable/**', '**/README.md'],
  lastUpdated: false,
  // Every page a link can reach is built here; a link to a page that is not fails the build
  // (VitePress's default), and buildEnd below fails it on an anchor that is not there.
  ignoreDeadLinks: false,
  head: [['meta', { name: 'theme-color', content: '#3c8772' }]],
  // The search index and the recipes' included sources are large by nature; each loads alone.
  vite: { build: { chunkSizeWarningLimit: 1500 } },
  markdown: {
    config(md) {
      // README and CONTRIBUTING inclusion runs before markdown-it reads the page, so included
      // headings reach the outline and the search index, and included links are checked.
      md.core.ruler.before('normalize', 'org-readme', (state) => {
        // VitePress watches what a page includes (env.includes): a README edit reloads its guide.
        (state.env as { includes?: string[] }).includes?.push(...directiveFiles(state.src));
        state.src = expandDirectives(state.src);
      });
    },
  },
  themeConfig: {
    nav: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'Guides', link: '/guide/core', activeMatch: '^/guide/' },
      { text: 'Recipes', link: '/recipes/api-route', activeMatch: '^/recipes/' },
      {
        text: 'Operations',
        activeMatch: '^/operations/',
        items: operations.map(({ text, link }) => ({ text: text!, link: link! })),
      },
      { text: 'API', link: '/api/', activeMatch: '^/api/' },
    ],
    sidebar: [
      {
        text: 'Start',
        items: [
          { text: 'Getting started', link: '/getting-started' },
          { text: 'The contract', link: '/contract' },
        ],
      },
      {
        text: 'Guides',
        collapsed: false,
        items: guidePackages.map((p) => ({ text: guideTitles[p], link: `/guide/${p}` })),
      },
      { text: 'Recipes', collapsed: false, items: recipes },
      { text: 'Operations', collapsed: false, items: operations },
      {
        text: 'API reference',
        collapsed: true,
        items: [{ text: 'All modules', link: '/api/' }, ...apiSidebar()],
      },
    ],
    outline: { level: [2, 3] },
    search: {
      provider: 'local',
      options: {
        // The guides carry every package's README (API tables included); the generated reference
        // would triple the index a phone downloads when search opens, for the same names.
        _render(src, env, md) {
          const html = md.render(src, env);
          return env.relativePath.startsWith('api/') ? '' : html;
        },
      },
    },
    footer: { message: 'MIT licensed. Generated from the repository at every build.' },
  },
  // A dead page link fails the build (VitePress's own check, with ignoreDeadLinks: false); this
  // fails it on a link to an anchor that is not there, over the built HTML.
  buildEnd: failOnBrokenLinks,
});
