import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { chromiumFlags, chromiumPath } from './__fixtures__/chromium.ts';
import { waitFor } from './__fixtures__/wait-for.ts';
import { loadConfig } from './config.ts';
import { type Andon, startAndon } from './runtime.ts';

if (process.env.CI && !existsSync(chromiumPath)) {
  throw new Error(`CI needs Chromium at ${chromiumPath} (apt-get install -y chromium) or CHROMIUM_PATH.`);
}
/** A full-page screenshot, or 1100 px of the page from `focus` on when the page is long and one part is the point. */
const shot = async (page: Page, name: string, focus?: string) => {
  const path = `test-results/ui-${name}.png`;
  if (!focus) return void (await page.screenshot({ path, fullPage: true }));
  const box = await page.locator(focus).first().boundingBox();
  const scrollY = Number(await page.evaluate('window.scrollY'));
  const width = page.viewportSize()?.width ?? 1280;
  const height = Number(await page.evaluate('document.documentElement.scrollHeight'));
  const y = Math.max(0, (box?.y ?? 0) + scrollY - 16);
  await page.screenshot({ path, fullPage: true, clip: { x: 0, y, width, height: Math.min(1100, height - y) } });
};

/**
 * Submit a signature and wait, with a generous deadline, for the page it answers with (the server resumes triage
 * before it answers, which takes long on a loaded machine): `?signed=` after a signature, the form again after a refusal.
 */
const signAndWait = async (button: Locator, answer: RegExp = /[?&]signed=/) => {
  await button.click({ noWaitAfter: true });
  await button.page().waitForURL(answer, { timeout: 180_000, waitUntil: 'load' });
};

/**
 * The web UI in real Chromium against andon on its embedded defaults (PGlite, the embedded broker, the simulator's
 * drift): overview, case page with the control chart, a citation, CAPA edit and diff, reject and redraft, approval with
 * re-authentication, the inbox, and the case page at tablet width. Screenshots go to test-results/ui-*.png.
 */
describe.skipIf(!existsSync(chromiumPath))('the web UI in Chromium on embedded defaults', () => {
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
      // An HTTP error status the test provokes on purpose (a wrong password is a 401) is not a script error.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        problems.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() === 404) problems.push(`404 for ${response.url()}`);
    });
    await page.goto(`${andon.url}/`);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${andon.url}/`);
    return { page, problems };
  };

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      ANDON_DATA_DIR: 'memory://ui-chromium',
      MQTT_EMBEDDED_PORT: '0',
      SIMULATOR_SPEED: '40',
      LOG_LEVEL: 'silent',
    });
    andon = await startAndon(config, { log: (line) => logLines.push(line) });
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
    await mkdir('test-results', { recursive: true });
  });
  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await andon?.close();
  });

  it('overview → case chart → citation → CAPA edit and diff → reject and redraft → signed approval → action result', async () => {
    onTestFailed(() => console.error(`andon's last log lines:\n${logLines.slice(-40).join('\n')}`));
    const drifting = await waitFor(
      'the drift case awaiting approval',
      async () =>
        (await andon.cases.list({ status: 'awaiting_approval' })).find((item) =>
          item.tags.includes('packaging.line1.seal_temperature'),
        ),
      90_000,
    );
    const caseUrl = `${andon.url}/cases/${encodeURIComponent(drifting.id)}`;

    // Overview: alarms by area and severity, open cases, KPI tiles, and live updates over server-sent events.
    const quality = await signIn('quality', 'andon-quality');
    const overview = quality.page;
    await expect
      .poll(() => overview.locator('#live-status').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('live');
    expect(await overview.locator('#live-alarms table').textContent()).toContain('packaging');
    expect(await overview.locator('#live-kpis .tile').count()).toBeGreaterThan(5);
    // The simulator's plant clock runs 40× ahead: the KPI period follows it, so the tiles count the drift's alarms.
    const kpis = overview.locator('#live-kpis');
    await expect
      .poll(async () => (await kpis.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/[1-9]\d* alarm activation/);
    expect(await kpis.textContent()).toMatch(/on the plant clock/);
    expect(await kpis.locator('.tile', { hasText: 'Priority low / medium / high' }).textContent()).not.toMatch(
      /no data/,
    );
    await shot(overview, 'overview');
    await shot(overview, 'kpis', '#live-kpis');

    // Case page: uPlot chart with flagged points, contribution and evidence sections, Offline draft label.
    await overview.getByRole('link', { name: drifting.id }).click();
    const page = overview;
    await page.waitForSelector('.uplot-target canvas');
    expect(Number(await page.locator('.uplot-target').first().getAttribute('data-flagged'))).toBeGreaterThan(0);
    expect(await page.locator('.flagged-table tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('.offline').first().textContent()).toBe('Offline draft');
    expect(await page.getByRole('heading', { name: 'Multivariate contributions' }).count()).toBe(1);
    expect(await page.locator('details.evidence summary').textContent()).toMatch(/[1-9]\d* SOP passage/);
    expect(await page.getByRole('button', { name: 'Approve and sign' }).count()).toBe(1);
    await shot(page, 'case');

    // A citation opens the exact SOP section with the quote highlighted.
    const firstQuote = page.locator('blockquote').first();
    const quoted = ((await firstQuote.textContent()) ?? '').match(/“([\s\S]*)”/)?.[1] ?? '';
    expect(quoted.length).toBeGreaterThan(10);
    await firstQuote.getByRole('link').click();
    await page.waitForSelector('mark#quote');
    expect((await page.locator('mark#quote').textContent())?.replace(/\s+/g, ' ').trim()).toBe(
      quoted.replace(/\s+/g, ' ').trim(),
    );
    expect(await page.locator('h1').textContent()).toMatch(/SOP|sealer|Deviation|Heat/i);
    await shot(page, 'citation');

    // An engineer edits the CAPA plan: a new version and its diff; the engineer is not offered a signature.
    const engineer = await signIn('engineer', 'andon-engineer');
    await engineer.page.goto(caseUrl);
    expect(await engineer.page.getByRole('button', { name: 'Approve and sign' }).count()).toBe(0);
    // Keyboard: the editor opens from its summary with Enter.
    await engineer.page.locator('#edit-capa summary').focus();
    await engineer.page.keyboard.press('Enter');
    expect(await engineer.page.locator('#edit-capa').getAttribute('open')).not.toBeNull();
    const newContainment = 'Quarantine the last two hours of sealed packs and pull 20 for a peel test.';
    await engineer.page.getByLabel('New item (leave empty for none)').first().fill(newContainment);
    await engineer.page.locator('#edit-containment-0-owner').fill('Eli Engineer');
    await engineer.page.getByLabel('Why you changed it').fill('Containment must cover packs already sealed.');
    await engineer.page.getByRole('button', { name: /Save as version/ }).click();
    await engineer.page.waitForSelector('.notice');
    expect(await engineer.page.locator('.notice').first().textContent()).toMatch(/Saved as version 2/);
    const diff = engineer.page.locator('.version-diff[open] .diff');
    expect(await diff.locator('ins').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining(newContainment), expect.stringContaining('owner Eli Engineer')]),
    );
    expect(await diff.locator('del').count()).toBe(1);
    await shot(engineer.page, 'diff', '#versions');

    // The quality lead rejects v2 with feedback: triage redrafts v3 with it.
    await page.goto(caseUrl);
    expect(await page.getByRole('heading', { name: /^Draft v2\b/ }).count()).toBe(1);
    const feedback = 'Add a peel test of the last three lots before any release.';
    await page.getByRole('button', { name: 'Reject and sign…' }).click();
    const rejecting = page.getByRole('dialog', { name: 'Reject and sign draft v2' });
    await rejecting.waitFor();
    expect(await rejecting.textContent()).toMatch(/Meaning of this signature\s*Rejected: I have reviewed/);
    await rejecting.getByLabel('What must change (required)').fill(feedback);
    await rejecting.getByLabel(/Your password/).fill('andon-quality');
    // signing a rejection runs the redraft before the page answers: wait for it, generously on a loaded machine
    await signAndWait(rejecting.getByRole('button', { name: 'Sign: reject' }));
    expect(await page.getByRole('status').first().textContent()).toContain('Signed: rejected by Quinn Quality');
    await waitFor('the redraft v3 waiting for a decision', async () => {
      const status = await andon.triage.status(drifting.id);
      return status?.waitingForDecision && status.draftVersion === 3 ? status : undefined;
    });
    await page.goto(caseUrl);
    expect(await page.getByRole('heading', { name: /^Draft v3\b/ }).count()).toBe(1);
    expect(await page.locator('main').textContent()).toContain(`Redraft after reviewer feedback: ${feedback}`);
    // the redraft keeps the engineer's containment edit and says so
    expect(await page.locator('main').textContent()).toContain(newContainment);
    expect(await page.locator('main').textContent()).toMatch(/Containment: kept as edited by a person in v2/);
    await shot(page, 'redraft', '#draft');

    // The inbox lists the case for the quality lead, with its priority, age and escalation status.
    await page.goto(`${andon.url}/inbox`);
    const row = page.locator('table.inbox tr', { hasText: drifting.id });
    expect(await row.count()).toBe(1);
    expect(await row.textContent()).toMatch(/not escalated/);
    await shot(page, 'inbox');

    // Approve v3: a wrong password is refused in plain words; the right one signs and the lot hold runs once.
    // The signature dialog is modal: labelled, the focus stays inside, Escape closes it and returns the focus.
    await page.goto(caseUrl);
    const approveButton = page.getByRole('button', { name: 'Approve and sign…' });
    await approveButton.click();
    const approving = page.getByRole('dialog', { name: 'Approve and sign draft v3' });
    await approving.waitFor();
    expect(await page.evaluate("document.querySelector('#sign-approve').matches(':modal')")).toBe(true);
    const manifest = (await approving.locator('dl.manifest').textContent()) ?? '';
    expect(manifest).toMatch(/Signed by\s*Quinn Quality/);
    expect(manifest).toMatch(/Time\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(manifest).toMatch(/Record\s*Case .*draft v3 \(SHA-256 [0-9a-f]{16}…\)/);
    expect(await approving.locator('.meaning-box').textContent()).toMatch(
      /Approved: I have reviewed this record version/,
    );
    const insideDialog = "document.querySelector('#sign-approve').contains(document.activeElement)";
    for (let step = 0; step < 8; step++) {
      await page.keyboard.press(step % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await page.evaluate(insideDialog)).toBe(true);
    }
    await page.screenshot({ path: 'test-results/ui-sign-dialog.png' });
    await page.keyboard.press('Escape');
    expect(await approving.isVisible()).toBe(false);
    expect(await page.evaluate('document.activeElement?.dataset.opens')).toBe('sign-approve');
    // A wrong password is refused in plain words inside the dialog; the right one signs and the lot hold runs once.
    await approveButton.click();
    await approving.getByLabel('Comment (why)').fill('Hold the lot until the peel tests pass.');
    await approving.getByLabel(/Your password/).fill('not-my-password');
    await signAndWait(approving.getByRole('button', { name: 'Sign: approve' }), /\/decision$/);
    await approving.waitFor();
    expect(await approving.getByRole('alert').textContent()).toMatch(/Password check failed.*Nothing was signed/);
    expect(await approving.getByLabel('Comment (why)').inputValue()).toBe('Hold the lot until the peel tests pass.');
    await approving.getByLabel(/Your password/).fill('andon-quality');
    await signAndWait(approving.getByRole('button', { name: 'Sign: approve' }));
    expect(await page.getByRole('status').first().textContent()).toContain('Signed: approved by Quinn Quality');
    await waitFor('the case to close', async () => (await andon.cases.get(drifting.id))?.status === 'closed');
    await page.reload();
    expect(await page.locator('tr.execution').first().textContent()).toMatch(/succeeded.*Done: external id/s);
    expect(await page.locator('table.audit').textContent()).toContain('action.executed');
    await shot(page, 'approved', '#signatures');
    expect((await andon.sandbox.list()).filter((effect) => effect.kind === 'lot_hold')).toHaveLength(1);

    // Tablet width, keyboard only: the sign-in fields take focus in order; the case page fits 768 px.
    const tabletContext = await browser.newContext({ viewport: { width: 768, height: 1024 } });
    contexts.push(tabletContext);
    const tablet = { page: await tabletContext.newPage(), problems: [] as string[] };
    tablet.page.on('pageerror', (error) => tablet.problems.push(error.message));
    await tablet.page.goto(`${andon.url}/`);
    const focused = () => tablet.page.evaluate('document.activeElement?.id || document.activeElement?.textContent');
    // Focused on arrival: the browser applies autofocus after the load event, so wait for it rather than race it.
    await tablet.page.waitForFunction("document.activeElement?.id === 'username'", undefined, { timeout: 5000 });
    await tablet.page.keyboard.press('Shift+Tab');
    await tablet.page.keyboard.press('Tab');
    expect(await focused()).toBe('username');
    await tablet.page.keyboard.type('supervisor');
    await tablet.page.keyboard.press('Tab');
    expect(await focused()).toBe('password');
    await tablet.page.keyboard.type('andon-supervisor');
    await tablet.page.keyboard.press('Enter');
    await tablet.page.waitForURL(`${andon.url}/`);
    await tablet.page.goto(caseUrl);
    await tablet.page.waitForSelector('.uplot-target canvas');
    await shot(tablet.page, 'case-tablet');
    // Browser-side code as text: the test's TypeScript has no DOM types.
    const wide = await tablet.page.evaluate(
      `[...document.querySelectorAll('main *')].filter((e) => e.getBoundingClientRect().right > 768)
        .slice(0, 5).map((e) => e.tagName + '.' + e.className)`,
    );
    expect(wide).toEqual([]);
    expect(await tablet.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(768);

    expect([...quality.problems, ...engineer.problems, ...tablet.problems]).toEqual([]);
    expect(await andon.audit.verify()).toMatchObject({ ok: true });
  }, 240_000);
});
