import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateReport, lossyScenarioYaml, scenarioFile } from './fixtures.js';

/**
 * Loads a generated report in headless Chromium (the system's, never a downloaded one) and checks
 * what a reader sees. Chromium missing is a failure, not a skip: CI installs it with
 * `apt-get install -y chromium`. `CHROMIUM_PATH` points elsewhere if needed.
 * Screenshots go to `$KAFKAESQUE_SCREENSHOTS` (default: the OS temp directory), never the repository.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.KAFKAESQUE_SCREENSHOTS ?? tmpdir();

describe('the report in a browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`headless Chromium not found at ${CHROMIUM}: install it (Debian: sudo apt-get install -y chromium) or set CHROMIUM_PATH`);
    }
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every figure with no console error, no outside request, no script run, and the narrative visible', async () => {
    const { dir } = generateReport(scenarioFile(lossyScenarioYaml()));
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    const errors: string[] = [];
    const outside: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) outside.push(r.url());
    });
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'load' });

    const figures = await page.$$eval('figure.figure', (els) =>
      els.map((el) => {
        const svg = el.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: el.id, width: box?.width ?? 0, height: box?.height ?? 0, shapes: svg?.querySelectorAll('rect, line, path, text').length ?? 0 };
      }),
    );
    expect(figures.map((f) => f.id)).toEqual(['fig-timeline', 'fig-replica-logs-1', 'fig-sequence-1', 'fig-throughput', 'fig-latency', 'fig-isr', 'fig-under-replicated']);
    for (const f of figures) {
      expect(f.width, f.id).toBeGreaterThan(200);
      expect(f.height, f.id).toBeGreaterThan(100);
      expect(f.shapes, f.id).toBeGreaterThan(10);
    }

    const narrative = await page.$eval('p.narrative', (el) => {
      const box = el.getBoundingClientRect();
      // Laid out, on screen when scrolled to, and not clipped to nothing.
      return { text: el.textContent ?? '', height: box.height, visible: el.getClientRects().length > 0 && box.width > 100 && box.left >= 0 };
    });
    expect(narrative.visible).toBe(true);
    expect(narrative.height).toBeGreaterThan(10);
    expect(narrative.text).toMatch(/acknowledged writes? (was|were) lost/);

    expect(await page.title()).toBe('<script>alert(1)</script>: kafkaesque report');
    expect(await page.$$('script')).toHaveLength(0);
    expect(dialogs).toEqual([]);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);

    await page.screenshot({ path: join(SHOTS, 'kafkaesque-report-full.png'), fullPage: true });
    for (const f of figures) await (await page.$(`#${f.id}`))?.screenshot({ path: join(SHOTS, `kafkaesque-report-${f.id}.png`) });
    await page.close();
  });
});
