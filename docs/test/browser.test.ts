// The built site in headless Chromium: every page renders without a console error or a request
// that leaves the machine, search finds a package by name, and at a phone's width (375 px) no
// page scrolls sideways and the nav menu opens. Screenshots of one guide go to
// .artifacts/screenshots/.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { artifactsDir } from './support/build-site.js';
import { type StaticSite, serveStatic } from './support/static-server.js';

const site = inject('site');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(executablePath);
if (!haveChromium) {
  const msg = `Chromium is not installed at ${executablePath} (set CHROMIUM_PATH)`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI needs it`);
  console.warn(`[skip] ${msg}: the browser tests are skipped.`);
}
export const screenshotsDir = join(artifactsDir, 'screenshots');
const phone = { width: 375, height: 812 };
const desktop = { width: 1280, height: 800 };

/** Every page of the built site, as a path (`/guide/cache.html`), the 404 page aside. */
const pages = readdirSync(site.outDir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.html') && f !== '404.html')
  .map((f) => `/${f.replace(/\\/g, '/')}`)
  .sort();

let server: StaticSite;
let browser: Browser;

/** A context whose requests never leave the machine: any other host is recorded and aborted. */
async function isolatedContext(viewport: { width: number; height: number }, offsite: string[]) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.origin === server.url || url.protocol === 'data:') return route.continue();
    offsite.push(route.request().url());
    return route.abort();
  });
  return context;
}

function watch(page: Page, path: string, problems: string[]) {
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${path}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${path}: uncaught: ${err.message}`));
  page.on('requestfailed', (req) => {
    // Prefetches of linked pages are cut short when the test moves on: not a failure.
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`${path}: request failed: ${req.url()} ${req.failure()?.errorText ?? ''}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`${path}: ${res.status()} ${res.url()}`);
  });
}

/** Runs `fn` over every page with a few tabs at once. */
async function eachPage(context: BrowserContext, fn: (page: Page, path: string) => Promise<void>) {
  const queue = [...pages];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      const page = await context.newPage();
      for (let path = queue.shift(); path; path = queue.shift()) await fn(page, path);
      await page.close();
    }),
  );
}

describe.runIf(haveChromium)('the site in Chromium', () => {
  beforeAll(async () => {
    expect(site.ok, 'the site did not build; see .artifacts/site-build.log').toBe(true);
    server = await serveStatic(site.outDir);
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    mkdirSync(screenshotsDir, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('has pages to visit: guides, recipes, operations and the API reference', () => {
    for (const p of [
      '/index.html',
      '/getting-started.html',
      '/guide/cache.html',
      '/recipes/api-route.html',
      '/operations/monitoring.html',
      '/api/index.html',
    ]) {
      expect(pages).toContain(p);
    }
  });

  it('renders every page without a console error, a failed request or an off-site request', async () => {
    const problems: string[] = [];
    const offsite: string[] = [];
    const context = await isolatedContext(desktop, offsite);
    await eachPage(context, async (page, path) => {
      const local: string[] = [];
      watch(page, path, local);
      await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
      // Hydrated: VitePress's app mounted and the page's content is there.
      await page.locator('#app .VPContent').waitFor();
      await page.waitForLoadState('networkidle');
      problems.push(...local);
      page.removeAllListeners('console');
      page.removeAllListeners('pageerror');
      page.removeAllListeners('requestfailed');
      page.removeAllListeners('response');
    });
    await context.close();
    console.log(`${pages.length} pages rendered in Chromium`);
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('finds a package by name with the local search', async () => {
    const offsite: string[] = [];
    const context = await isolatedContext(desktop, offsite);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.locator('#local-search button, .VPNavBarSearch button').first().click();
    const input = page.locator('.VPLocalSearchBox input');
    await input.fill('rate-limit');
    const hit = page.locator('.VPLocalSearchBox .results a[href*="/guide/rate-limit"]').first();
    await hit.waitFor({ timeout: 10_000 });
    await hit.click();
    await page.waitForURL(/\/guide\/rate-limit/);
    await expect(page.locator('.vp-doc h1').first().textContent()).resolves.toContain(
      '@org/rate-limit',
    );
    await context.close();
    expect(offsite).toEqual([]);
  });

  it('fits a phone: no page scrolls sideways at 375 px', async () => {
    const wide: string[] = [];
    const context = await isolatedContext(phone, []);
    await eachPage(context, async (page, path) => {
      await page.goto(`${server.url}${path}`, { waitUntil: 'load' });
      await page.locator('#app .VPContent').waitFor();
      const { scroll, client } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      if (scroll > client) wide.push(`${path}: ${scroll} px wide in ${client} px`);
    });
    await context.close();
    expect(wide).toEqual([]);
  });

  it('opens the nav menu and the sidebar at 375 px', async () => {
    const context = await isolatedContext(phone, []);
    const page = await context.newPage();
    await page.goto(`${server.url}/guide/cache.html`);
    const screen = page.locator('.VPNavScreen');
    await expect(screen.isVisible()).resolves.toBe(false);
    await page.locator('.VPNavBarHamburger').click();
    await screen.waitFor({ state: 'visible' });
    await expect(screen.getByText('Getting started').first().isVisible()).resolves.toBe(true);
    await page.locator('.VPNavBarHamburger').click();
    await screen.waitFor({ state: 'hidden' });
    // The local nav's "Menu" opens the sidebar with every guide.
    await page.locator('.VPLocalNav .menu').click();
    const sidebar = page.locator('.VPSidebar');
    await expect(sidebar.getByText('cache: two tiers over Redis').isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('screenshots one guide at desktop and phone widths', async () => {
    for (const [name, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as const) {
      const context = await isolatedContext(viewport, []);
      const page = await context.newPage();
      await page.goto(`${server.url}/guide/cache.html`);
      await page.locator('.VPContent').waitFor();
      const top = join(screenshotsDir, `guide-cache-${name}.png`);
      await page.screenshot({ path: top });
      const chart = page.locator('.bench-chart').first();
      await chart.scrollIntoViewIfNeeded();
      const chartShot = join(screenshotsDir, `guide-cache-chart-${name}.png`);
      await chart.screenshot({ path: chartShot });
      await context.close();
      expect(existsSync(top) && existsSync(chartShot)).toBe(true);
    }
  });
});
