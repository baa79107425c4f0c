import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './__fixtures__/wait-for.ts';
import { loadConfig } from './config.ts';
import { type Andon, startAndon } from './runtime.ts';

describe('the skeleton journey on embedded defaults', () => {
  let andon: Andon;
  let token: string;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${andon.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    const config = loadConfig({
      PORT: '0',
      ANDON_DATA_DIR: 'memory://journey',
      MQTT_EMBEDDED_PORT: '0',
      SIMULATOR_SPEED: '40',
      LOG_LEVEL: 'silent',
    });
    andon = await startAndon(config, { log: () => {} });
    const quality = (await andon.users.byUsername('quality'))!;
    token = await andon.users.createToken(quality.id, 'journey-test', ['quality_lead']);
  });
  afterAll(async () => {
    await andon?.close();
  });

  it('drift → case → offline draft → signed approval → lot hold executed once → audit of every step', async () => {
    const drifting = await waitFor('a case on the drifting seal temperature awaiting approval', async () => {
      const { cases } = (await (await api('/api/v1/cases')).json()) as {
        cases: Array<{ id: string; status: string; tags: string[] }>;
      };
      return cases.find(
        (item) => item.tags.includes('packaging.line1.seal_temperature') && item.status === 'awaiting_approval',
      );
    });
    const detail = (await (await api(`/api/v1/cases/${drifting.id}`)).json()) as {
      draft: {
        source: string;
        flags: string[];
        actions: Array<{ type: string; params: { lot?: string } }>;
        hypotheses: Array<{ citations: unknown[] }>;
      };
      recordHash: string;
    };
    expect(detail.draft.source).toBe('offline');
    expect(detail.draft.flags[0]).toMatch(/offline drafter/i);
    expect(detail.draft.actions.map((action) => action.type)).toContain('lot_hold');
    expect(detail.draft.hypotheses[0]?.citations.length).toBeGreaterThan(0);

    const withoutPassword = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'approve' }),
    });
    expect(withoutPassword.status).toBe(400);
    const wrongPassword = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'approve', password: 'nope' }),
    });
    expect(wrongPassword.status).toBe(401);
    expect(((await wrongPassword.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');

    const approved = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({
        decision: 'approve',
        comment: 'hold it',
        password: 'andon-quality',
        recordHash: detail.recordHash,
      }),
    });
    expect(approved.status).toBe(200);
    const again = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'approve', password: 'andon-quality' }),
    });
    expect(again.status).toBe(409);

    await waitFor(
      'the case to close after its actions executed',
      async () => (await andon.cases.get(drifting.id))?.status === 'closed',
      30_000,
    );
    const executions = await andon.outbox.forCase(drifting.id);
    expect(executions.every((execution) => execution.status === 'succeeded')).toBe(true);
    const lot = detail.draft.actions.find((action) => action.type === 'lot_hold')!.params.lot;
    const holds = (await andon.sandbox.list()).filter(
      (effect) => effect.kind === 'lot_hold' && effect.body.lot === lot,
    );
    expect(holds).toHaveLength(1);

    const actions = (await andon.audit.listForCase(drifting.id)).map((entry) => entry.action);
    for (const step of [
      'deviation.detected',
      'case.opened',
      'draft.created',
      'approval.requested',
      'approval.signed',
      'action.queued',
      'actions.handed_to_outbox',
      'action.executed',
      'case.closed',
    ]) {
      expect(actions, `audit has ${step}`).toContain(step);
    }
    expect(await andon.audit.verify()).toMatchObject({ ok: true, firstBroken: null });

    const page = await fetch(`${andon.url}/cases/${drifting.id}`, { headers: { authorization: `Bearer ${token}` } });
    const html = await page.text();
    expect(html).toContain('Offline draft');
    expect(html).toContain('action.executed');
  });

  it('answers an unknown case with a 404 JSON error that carries a code', async () => {
    const response = await api('/api/v1/cases/CASE-does-not-exist');
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toContain('CASE-does-not-exist');
    expect(body.error.requestId).toBeTruthy();
  });

  it('moves a malformed MQTT payload to the dead-letter table and keeps ingesting', async () => {
    const before = andon.pipeline.stats().readings;
    const client = await mqtt.connectAsync(andon.mqttUrl, { protocolVersion: 4 });
    await client.publishAsync('andon/plant/packaging/line1/seal_temperature', '{"value": 18', { qos: 1 });
    await client.publishAsync('andon/plant/packaging/line1/seal_temperature', '{"value": "hot"}', { qos: 1 });
    await client.endAsync();
    const letters = await waitFor('two dead letters', async () => {
      const rows = await andon.readings.deadLetters(10);
      return rows.length >= 2 ? rows : null;
    });
    expect(letters.map((letter) => letter.reason).join('\n')).toMatch(/not valid JSON/);
    expect(letters.every((letter) => letter.topic === 'andon/plant/packaging/line1/seal_temperature')).toBe(true);
    await waitFor('ingest to go on', async () => andon.pipeline.stats().readings > before);
  });
});
