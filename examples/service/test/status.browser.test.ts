import { mkdtempSync, rmSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBreaker } from '@org/resilience';
import { programAvailable } from '@org/test-utils';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService } from '../src/server.js';

// GET /status in a real browser: headless Chromium from Debian (/usr/bin/chromium).
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', '.artifacts');
const EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">';

const chromiumAvailable = await programAvailable(`Chromium (${CHROMIUM})`, () =>
  access(CHROMIUM).then(
    () => true,
    () => false,
  ),
);

describe.runIf(chromiumAvailable)('GET /status in headless Chromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'example-service-status-'));
  let base = '';
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  // A breaker whose name is markup: it must show as text. Held so the registry keeps it.
  let evil: ReturnType<typeof createBreaker> | undefined;

  beforeAll(async () => {
    process.env.STORAGE_ROOT = root;
    process.env.UPSTREAM_FAIL_RATE = '0';
    process.env.ADMIN_TOKEN = 'status-page-admin-token';
    delete process.env.BACKUP_TRIGGER_TOKEN;
    const service = await createService({ shutdownDelay: 0, drainTimeout: 1_000 });
    await new Promise<void>((r) => service.server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
    close = service.close;
    evil = createBreaker(async () => 'ok', { name: EVIL });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    // Some traffic for the page to show: cache hits in L1, a signed token, rate-limit decisions.
    await fetch(`${base}/cache/contractor?id=7`);
    await fetch(`${base}/cache/contractor?id=7`);
    await fetch(`${base}/auth/token`, { method: 'POST', body: '{}' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await evil?.close();
    await close?.();
    delete process.env.UPSTREAM_FAIL_RATE;
    rmSync(root, { recursive: true, force: true });
  });

  const breakerBox = (name: string) =>
    page.locator('.breaker').filter({ has: page.locator('.name', { hasText: name }) });
  const stateOf = (name: string) => breakerBox(name).locator('div').first().locator('.pill');

  it('renders every section live, with the markup-named breaker as text, and no console error', async () => {
    await page.goto(`${base}/status`);
    await expect.poll(() => page.textContent('#updated'), { timeout: 10_000 }).toMatch(/^updated/);
    // The name shows as its characters; nothing it holds ran or became an element.
    await expect.poll(() => breakerBox(EVIL).count()).toBe(1);
    expect(await breakerBox(EVIL).locator('.name').textContent()).toBe(EVIL);
    // (Expressions as strings: they run in the page, whose DOM types this program does not load.)
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.evaluate('document.scripts.length')).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    // Cache, rate limits, health and keys are filled in.
    const text = (id: string) => page.locator(id).textContent();
    expect(await text('#cache')).toMatch(/50\.0 %/); // one miss, one L1 hit
    expect(await text('#ratelimit')).toMatch(/read/);
    expect(await text('#health')).toMatch(/eventLoop[\s\S]*ms/);
    expect(await text('#keys')).toMatch(/RS256[\s\S]*active/);
    // No BACKUP_TRIGGER_TOKEN here: the backups section says which variables turn it on.
    expect(await text('#backup')).toMatch(/off \(set BACKUP_TRIGGER_TOKEN and DATABASE_URL\)/);
    // The breaker's counts come from the metrics (none failed with UPSTREAM_FAIL_RATE=0).
    expect(await breakerBox('flaky-upstream').textContent()).toMatch(
      /since start: \d+ succeeded, 0 failed/,
    );
    // Nothing secret: no admin token, no JWT, no private key field.
    const html = await page.content();
    expect(html).not.toContain('status-page-admin-token');
    expect(html).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(html).not.toMatch(/"d"\s*:/);
    expect(problems).toEqual([]);
  });

  it('the chaos control: the breaker opens, answers with the fallback, then closes again', async () => {
    expect(await stateOf('flaky-upstream').textContent()).toBe('closed');
    await page.click('#fail');
    await expect
      .poll(() => stateOf('flaky-upstream').textContent(), { timeout: 15_000 })
      .toBe('open');
    await expect.poll(() => page.textContent('#chaos-state')).toMatch(/fallback/);
    await page.screenshot({ path: join(ARTIFACTS, 'status-desktop.png'), fullPage: true });
    await expect
      .poll(() => stateOf('flaky-upstream').textContent(), { timeout: 20_000 })
      .toBe('closed');
    await expect.poll(() => page.textContent('#chaos-state')).toMatch(/recovered/);
    const timeline = await breakerBox('flaky-upstream').locator('.timeline').textContent();
    expect(timeline).toMatch(/closed\s*→\s*open/);
    expect(timeline).toMatch(/→\s*closed/);
    expect(problems).toEqual([]);
  }, 60_000);

  it('at a phone’s width (375 px) nothing scrolls sideways', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.reload();
    await expect.poll(() => page.textContent('#updated'), { timeout: 10_000 }).toMatch(/^updated/);
    await expect.poll(() => breakerBox('flaky-upstream').count()).toBe(1);
    const widths = await page.evaluate<{ scroll: number; client: number; body: number }>(
      `({ scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          body: document.body.scrollWidth })`,
    );
    expect(widths.client).toBe(375);
    expect(widths.scroll).toBeLessThanOrEqual(widths.client);
    expect(widths.body).toBeLessThanOrEqual(widths.client);
    await page.screenshot({ path: join(ARTIFACTS, 'status-phone.png'), fullPage: true });
    expect(problems).toEqual([]);
  });
});
