import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createEvalRunStore } from '../eval/index.ts';
import { evalReport } from '../server/__fixtures__/eval-runs.ts';
import { chromiumFlags, chromiumPath } from './__fixtures__/chromium.ts';
import { waitFor } from './__fixtures__/wait-for.ts';
import { loadConfig } from './config.ts';
import { type Andon, startAndon } from './runtime.ts';

if (process.env.CI && !existsSync(chromiumPath)) {
  throw new Error(`CI needs Chromium at ${chromiumPath} (apt-get install -y chromium) or CHROMIUM_PATH.`);
}

const sopFixture = fileURLToPath(new URL('./__fixtures__/sop-film-splice.md', import.meta.url));

/** Does the page fit the window's width (no sideways scrolling of the whole page)? */
const fitsWidth = (page: Page) =>
  page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1') as Promise<boolean>;

/**
 * The knowledge, alarms, evals and audit pages in real Chromium against andon on its embedded defaults (PGlite, the
 * embedded broker, the simulator's drift): upload an SOP with the progress bar and find it in the search playground,
 * the ISA-18.2 KPI report, stored eval runs and a comparison, audit search and chain verification, at desktop and
 * tablet width. Screenshots go to test-results/ui-kb-*.png, ui-alarms.png, ui-evals*.png and ui-audit.png.
 */
describe.skipIf(!existsSync(chromiumPath))('knowledge, alarms, evals and audit pages in Chromium', () => {
  let andon: Andon;
  let browser: Browser;
  const logLines: string[] = [];
  const contexts: BrowserContext[] = [];
  const signIn = async (username: string, password: string, viewport = { width: 1280, height: 900 }) => {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
    });
    await page.goto(`${andon.url}/login`);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${andon.url}/`);
    return { page, problems };
  };

  beforeAll(async () => {
    andon = await startAndon(
      loadConfig({
        PORT: '0',
        ANDON_DATA_DIR: 'memory://ui-kb-chromium',
        MQTT_EMBEDDED_PORT: '0',
        SIMULATOR_SPEED: '40',
        LOG_LEVEL: 'silent',
      }),
      { log: (line) => logLines.push(line) },
    );
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
    await mkdir('test-results', { recursive: true });
    const runs = createEvalRunStore(andon.database);
    await runs.save(evalReport('EVAL-20261120-baseline', 8, '2026-11-20T10:00:00.000Z'));
    await runs.save(evalReport('EVAL-20261125-candidate', 15, '2026-11-25T10:00:00.000Z', 'gpt-4o-mini'));
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await andon?.close();
  });

  it('an engineer uploads an SOP with a progress bar and finds it in the search playground by keyboard', async () => {
    onTestFailed(() => console.error(`andon's last log lines:\n${logLines.slice(-40).join('\n')}`));
    const { page, problems } = await signIn('engineer', 'andon-engineer');
    await page.getByRole('link', { name: 'Knowledge' }).click();
    await page.waitForURL(`${andon.url}/kb`);
    await page.getByLabel('Files').setInputFiles(sopFixture);
    await page.getByLabel('Document kind').selectOption('sop');
    await page.getByRole('button', { name: 'Upload' }).click();
    const status = page.locator('#upload-status');
    await expect.poll(() => status.textContent(), { timeout: 30_000 }).toMatch(/Loaded 1 document/);
    expect(await status.textContent()).toContain('Lidding film splice and web tension rev 1');
    expect(await page.locator('#upload-progress').evaluate((bar) => (bar as unknown as { value: number }).value)).toBe(
      100,
    );
    // The document list refreshed in place with the new SOP and its revision status.
    const row = page.locator('tr.document', { hasText: 'Lidding film splice and web tension' });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toMatch(/SOP-PKG-031.*rev 1.*effective/);
    await page.screenshot({ path: 'test-results/ui-kb-upload.png', fullPage: true });

    // Keyboard only: Tab to the search box, type, Enter.
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    for (let step = 0; step < 40; step += 1) {
      if ((await page.evaluate('document.activeElement && document.activeElement.id')) === 'kb-q') break;
      await page.keyboard.press('Tab');
    }
    expect(await page.evaluate('document.activeElement.id')).toBe('kb-q');
    await page.keyboard.type('film wanders off centre after a splice');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#search-results');
    const first = page.locator('li.hit').first();
    expect(await first.locator('h3').textContent()).toContain('SOP-PKG-031');
    expect(await first.locator('blockquote').textContent()).toContain('reduce the unwind brake tension');
    expect(await first.locator('.score-fulltext').textContent()).toMatch(/rank \d+ · score \d/);
    expect(await first.locator('.score-vector').textContent()).toMatch(/rank \d+ · cosine 0\.\d+/);
    expect(await first.locator('.score-fused').textContent()).toMatch(/0\.0\d+/);
    await page.screenshot({ path: 'test-results/ui-kb-search.png', fullPage: true });

    // The hit opens its citation with the quote.
    await first.getByRole('link', { name: /Open the citation/ }).click();
    await page.waitForURL(/\/cite\//);
    expect(await page.locator('body').textContent()).toContain('reduce the unwind brake tension');
    expect(problems).toEqual([]);
  });

  it('the knowledge page is usable at tablet width (768 px)', async () => {
    const { page, problems } = await signIn('engineer', 'andon-engineer', { width: 768, height: 1024 });
    await page.goto(`${andon.url}/kb?q=seal+temperature&explain=true`);
    expect(await fitsWidth(page)).toBe(true);
    expect(await page.locator('li.hit').count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'test-results/ui-kb-tablet.png', fullPage: true });
    expect(problems).toEqual([]);
  });

  it('the alarms page shows the KPI report beside the ISA-18.2 targets, with charts and filters', async () => {
    await waitFor('some alarms from the simulator drift', async () => (await andon.alarms.report()).alarms > 0, 90_000);
    const { page, problems } = await signIn('operator', 'andon-operator', { width: 768, height: 1024 });
    await page.getByRole('link', { name: 'Alarms' }).click();
    await page.waitForURL(`${andon.url}/alarms`);
    expect(await page.locator('table.kpis tr.kpi').count()).toBe(9);
    expect(await page.locator('table.kpis').textContent()).toContain('about 80 / 15 / 5 %');
    expect(await page.locator('svg.rate-chart path').count()).toBe(1);
    expect(await page.locator('svg.bad-actors rect').count()).toBeGreaterThan(0);
    expect(await page.getByLabel('Area').count()).toBe(1);
    expect(await fitsWidth(page)).toBe(true);
    await page.screenshot({ path: 'test-results/ui-alarms.png', fullPage: true });
    await page.getByLabel('From (UTC)').fill('2020-01-02T00:00');
    await page.getByLabel('To (UTC)').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Show' }).click();
    expect(await page.locator('[role="alert"]').textContent()).toContain('choose a "to" after "from"');
    expect(problems.filter((problem) => !problem.startsWith('400 '))).toEqual([]);
  });

  it('the evals page lists stored runs and compares two with intervals and flipped cases', async () => {
    const { page, problems } = await signIn('engineer', 'andon-engineer');
    await page.getByRole('link', { name: 'Evals' }).click();
    await page.waitForURL(`${andon.url}/evals`);
    expect(await page.locator('tr.run').count()).toBe(2);
    expect(await page.locator('table.runs').textContent()).toContain('andon-offline-drafter-v1');
    await page.screenshot({ path: 'test-results/ui-evals.png', fullPage: true });
    await page.getByLabel('Run A (baseline)').selectOption('EVAL-20261120-baseline');
    await page.getByLabel('Run B (candidate)').selectOption('EVAL-20261125-candidate');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(/\/evals\/compare/);
    expect(await page.locator('h2', { hasText: 'Flipped cases' }).textContent()).toContain('7 fixed, 0 broken');
    expect(await page.locator('tr.delta', { hasText: 'top1' }).textContent()).toContain('better');
    await page.screenshot({ path: 'test-results/ui-evals-compare.png', fullPage: true });
    await page.getByRole('link', { name: 'EVAL-20261125-candidate' }).first().click();
    expect(await page.locator('table.slices tr.slice').count()).toBe(2);
    expect(problems).toEqual([]);
  });

  it('a quality lead searches the audit trail, records a case close-out, and verifies the chain', async () => {
    const { page, problems } = await signIn('quality', 'andon-quality');
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.waitForURL(`${andon.url}/audit`);
    await page.getByLabel('Actor (user name or id)').fill('engineer');
    await page.getByLabel('Action (or its start, e.g. knowledge.)').fill('knowledge.');
    await page.getByRole('button', { name: 'Search' }).click();
    const entries = page.locator('table.audit tr.entry');
    expect(await entries.count()).toBe(1);
    expect(await entries.first().textContent()).toContain('knowledge.document.add');
    // Close-out of the drift case: disposition and the confirmed root-cause category, recorded and audited.
    const [drift] = await andon.cases.list({ limit: 1 });
    expect(drift).toBeDefined();
    await page.goto(`${andon.url}/cases/${encodeURIComponent(drift!.id)}/close-out`);
    await page.getByLabel('True deviation').check();
    await page
      .getByLabel('Confirmed root-cause category')
      .selectOption('Measurement (instrumentation or sensor fault)');
    await page
      .getByLabel('Comment (evidence for the category)')
      .fill('Thermocouple ageing, as the simulator injected.');
    await page.getByRole('button', { name: 'Record close-out' }).click();
    expect(await page.locator('#confirmed-root-cause').textContent()).toContain(
      'Confirmed root cause: Measurement (instrumentation or sensor fault)',
    );
    await page.screenshot({ path: 'test-results/ui-close-out.png', fullPage: true });
    await page.goto(`${andon.url}/audit?action=case.root_cause_confirmed`);
    expect(await page.locator('table.audit tr.entry').count()).toBe(1);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    expect(await page.locator('#verification').textContent()).toMatch(/Chain verified: \d+ entries, every link intact/);
    await page.screenshot({ path: 'test-results/ui-audit.png', fullPage: true });
    expect(problems).toEqual([]);
  });
});
