import { mkdir } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase } from '../store/index.ts';
import { waitFor } from './__fixtures__/wait-for.ts';
import { loadConfig } from './config.ts';
import { type Andon, startAndon } from './runtime.ts';

const databaseUrl = process.env.ANDON_TEST_DATABASE_URL;
const mqttUrl = process.env.ANDON_TEST_MQTT_URL;
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (process.env.CI && (!databaseUrl || !mqttUrl)) {
  throw new Error('CI must set ANDON_TEST_DATABASE_URL and ANDON_TEST_MQTT_URL (see .ci/run).');
}

export const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

describe.skipIf(!databaseUrl || !mqttUrl)('the journey on PostgreSQL + pgvector, mosquitto and Chromium', () => {
  let andon: Andon;
  let browser: Browser;

  beforeAll(async () => {
    const run = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: await createScratchDatabase(databaseUrl!),
      ANDON_SEED_DEMO: 'true',
      MQTT_URL: mqttUrl,
      MQTT_TOPIC_PREFIX: `andon-${run}/plant`,
      MQTT_CLIENT_ID: `andon-${run}`,
      SIMULATOR_SPEED: '40',
    });
    andon = await startAndon(config, { log: () => {} });
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
  });
  afterAll(async () => {
    await browser?.close();
    await andon?.close();
  });

  it('a quality lead signs in, opens the drift case, approves with a signature and sees the lot hold executed', async () => {
    expect(andon.database.kind).toBe('postgres');
    const drifting = await waitFor(
      'the drift case awaiting approval',
      async () =>
        (await andon.cases.list({ status: 'awaiting_approval' })).find((item) =>
          item.tags.includes('packaging.line1.seal_temperature'),
        ),
      90_000,
    );
    await mkdir('test-results', { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1024, height: 1300 } });
    await page.goto(`${andon.url}/`);
    await page.getByLabel('User name').fill('quality');
    await page.getByLabel('Password').fill('andon-quality');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: drifting.id }).click();
    expect(await page.locator('.offline').first().textContent()).toBe('Offline draft');
    expect(await page.locator('svg.chart .flagged').count()).toBeGreaterThan(0);
    expect(await page.locator('blockquote').count()).toBeGreaterThan(0);
    await page.screenshot({ path: 'test-results/journey-case-pending.png', fullPage: true });

    await page.getByRole('button', { name: 'Approve and sign…' }).click();
    const signing = page.getByRole('dialog', { name: /Approve and sign draft/ });
    await signing.getByLabel('Comment (why)').fill('Contain the lot until seal strength is verified.');
    await signing.getByLabel(/Your password/).fill('andon-quality');
    // the server resumes triage before it answers: wait for the signed page with a deadline that fits a loaded machine
    await signing.getByRole('button', { name: 'Sign: approve' }).click({ noWaitAfter: true });
    await page.waitForURL(/[?&]signed=/, { timeout: 180_000, waitUntil: 'load' });
    expect(await page.getByRole('status').textContent()).toContain('Signed: approved by Quinn Quality');

    await waitFor('the case to close', async () => (await andon.cases.get(drifting.id))?.status === 'closed', 90_000);
    await page.reload();
    expect(await page.locator('tr.execution').first().textContent()).toContain('succeeded');
    expect(await page.locator('table.audit').textContent()).toContain('action.executed');
    await page.screenshot({ path: 'test-results/journey-case-closed.png', fullPage: true });
    const holds = (await andon.sandbox.list()).filter((effect) => effect.kind === 'lot_hold');
    expect(holds).toHaveLength(1);
    expect(await andon.audit.verify()).toMatchObject({ ok: true });
  });
});
