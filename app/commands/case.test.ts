import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deviation } from '../../core/index.ts';
import {
  fixtureDraft,
  type GovernanceStores,
  governanceStores,
  person,
  recordingTriage,
} from '../../server/__fixtures__/governance.ts';
import { decide, editDraft } from '../../server/index.ts';
import { type CaseBundle, command, exportCase } from './case.ts';

const deviation: Deviation = {
  id: 'DEV-export-1',
  tag: 'packaging.line1.seal_temperature',
  detector: 'ewma',
  rule: 'limit',
  severity: 'high',
  detectedAt: new Date().toISOString(),
  value: 183.2,
  statistic: 3.4,
  limits: { lower: 178, center: 180, upper: 182 },
  message: 'EWMA above its upper limit <b>',
  window: [],
  contributions: [],
  area: 'packaging',
};

describe('andon case export', () => {
  let stores: GovernanceStores;
  let caseId: string;
  let directory: string;
  let bundle: CaseBundle;
  let html: string;

  beforeAll(async () => {
    stores = await governanceStores('case-export');
    const triage = recordingTriage();
    const editor = await person(stores, 'eli', ['engineer']);
    const signer = await person(stores, 'sam', ['supervisor']);
    caseId = (await stores.cases.recordDeviation(deviation)).caseId;
    await stores.drafts.save(caseId, fixtureDraft(caseId, ['lot_hold']));
    await editDraft(
      { ...stores, triage },
      {
        caseId,
        user: editor,
        edit: { summary: 'Thermocouple drift <script>alert("owned")</script>', comment: 'sharper <i>' },
      },
    );
    await decide(
      { ...stores, triage },
      { caseId, user: signer, decision: 'approve', comment: 'hold it "now"', password: 'pw-sam', channel: 'web' },
    );
    directory = await mkdtemp(join(tmpdir(), 'andon-export-'));
    const written = await exportCase(stores, caseId, directory);
    bundle = JSON.parse(await readFile(written.jsonPath, 'utf8')) as CaseBundle;
    html = await readFile(written.htmlPath, 'utf8');
  });
  afterAll(async () => {
    await stores?.database.close();
  });

  it('holds the records: case, deviation, both draft versions with the diff, the signature and the queued action', () => {
    expect(bundle.case.id).toBe(caseId);
    expect(bundle.deviations.map((item) => item.id)).toEqual(['DEV-export-1']);
    expect(bundle.drafts.map((version) => version.version)).toEqual([1, 2]);
    expect(Object.keys(bundle.drafts[1]!.diffFromPrevious ?? {})).toEqual(['summary']);
    expect(bundle.signatures).toHaveLength(1);
    expect(bundle.signatures[0]).toMatchObject({
      draftVersion: 2,
      signature: { printedName: 'Sam Person', meaning: 'approved', recordHash: bundle.drafts[1]!.recordHash },
      check: { status: 'valid' },
    });
    expect(bundle.actions.map((action) => action.type)).toEqual(['lot_hold']);
  });

  it('traces the lineage from the deviation to the action, with a verified audit excerpt', () => {
    const stages = bundle.lineage.map((step) => step.stage);
    for (const stage of ['deviation', 'case', 'draft', 'edit', 'signature', 'action'] as const)
      expect(stages, stage).toContain(stage);
    expect(stages.indexOf('deviation')).toBeLessThan(stages.indexOf('signature'));
    expect(stages.indexOf('edit')).toBeLessThan(stages.indexOf('signature'));
    expect(bundle.audit.verification.chain).toMatchObject({ ok: true, firstBroken: null });
    expect(bundle.audit.verification.excerpt).toMatchObject({ hashesMatch: true, brokenSeq: [] });
  });

  it('renders readable HTML with the signature manifestation and every record value escaped', () => {
    expect(html).toMatch(/Approved by Sam Person at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(html).toContain('Thermocouple drift &lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<b>');
    expect(html).toContain('Whole chain verified');
  });

  it('shows a tampered audit entry as broken in the next export', async () => {
    const target = bundle.audit.entries.find((entry) => entry.action === 'approval.signed')!;
    await stores.database.query('alter table audit_log disable trigger audit_log_append_only');
    await stores.database.query(`update audit_log set details = '{"forged": true}' where seq = $1`, [target.seq]);
    await stores.database.query('alter table audit_log enable trigger audit_log_append_only');
    const again = await exportCase(stores, caseId, directory);
    expect(again.bundle.audit.verification.chain.ok).toBe(false);
    expect(again.bundle.audit.verification.excerpt.brokenSeq).toEqual([target.seq]);
    expect(await readFile(again.htmlPath, 'utf8')).toContain(`Chain BROKEN at entry ${target.seq}`);
  });

  it('explains its usage when the case id is missing', async () => {
    expect(await command.run(['export'])).toBe(2);
    expect(await command.run(['frobnicate', 'CASE-1'])).toBe(2);
    expect(await command.run(['export', 'CASE-1', '--bogus'])).toBe(2);
  });
});
