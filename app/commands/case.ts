import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AndonError, type AuditEntry, checkSignatures, type SignatureCheck } from '../../core/index.ts';
import { draftDiff } from '../../server/index.ts';
import { auditHash } from '../../store/index.ts';
import { loadConfig } from '../config.ts';
import { openStores, type Stores } from '../runtime.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';

const usage = `usage: andon case export <case id> [--output DIR]

Writes an inspection-ready bundle of one case to DIR (default ./andon-export-<case id>):
  <case id>.json   the case, deviations, alarms, draft versions and their diffs, signatures (with their
                   manifestation and whether each still matches its record), actions and outcomes, and the audit
                   excerpt from deviation to outcome with its hash-chain verification
  <case id>.html   the same, readable in a browser (every value escaped)`;

type CaseStores = Pick<Stores, 'cases' | 'drafts' | 'approvals' | 'outbox' | 'audit' | 'alarms'>;

/** One step of the lineage deviation → alarm → case → drafts → edits → signatures → actions → outcomes. */
export interface LineageStep {
  stage: 'deviation' | 'alarm' | 'case' | 'draft' | 'edit' | 'signature' | 'action' | 'outcome';
  id: string;
  at: string;
  actor: string;
  summary: string;
  /** The audit entries that record this step. */
  auditSeq: number[];
}

const stageOf = (action: string): LineageStep['stage'] | null => {
  if (action.startsWith('deviation.')) return 'deviation';
  if (action.startsWith('alarm.')) return 'alarm';
  if (action === 'case.opened') return 'case';
  if (action === 'draft.created') return 'draft';
  if (action === 'draft.edited') return 'edit';
  if (/^(approval|rejection)\.(signed|partial)$/.test(action)) return 'signature';
  if (action === 'action.queued') return 'action';
  if (/^action\.(executed|dead_lettered|attempt_failed|replayed)$/.test(action) || action === 'case.closed')
    return 'outcome';
  return null;
};

/** Build the bundle of one case: everything an inspector needs, with the audit chain verified. */
export async function buildCaseBundle(stores: CaseStores, caseId: string) {
  const item = await stores.cases.get(caseId);
  if (!item) throw new AndonError('not_found', `Case ${caseId} does not exist; list cases with GET /api/v1/cases.`);
  const deviations = await stores.cases.deviations(caseId);
  const alarms = await stores.alarms.list({ caseId, limit: 1000 });
  const versions = await stores.drafts.versions(caseId);
  const approvals = await stores.approvals.forCase(caseId);
  const executions = await stores.outbox.forCase(caseId);
  const checks = checkSignatures(
    caseId,
    approvals,
    versions.map((stored) => stored.draft),
  );
  const audit = await stores.audit.linked(caseId, [
    ...deviations.map((deviation) => deviation.id),
    ...alarms.flatMap((alarm) => [alarm.id, alarm.key]),
    ...executions.map((execution) => execution.id),
  ]);
  const chain = await stores.audit.verify();
  const excerptBroken = audit.filter((entry) => {
    const { hash, ...rest } = entry;
    return auditHash(rest) !== hash;
  });
  const lineage: LineageStep[] = [];
  for (const entry of audit) {
    const stage = stageOf(entry.action);
    if (!stage) continue;
    lineage.push({
      stage,
      id: entry.subject,
      at: entry.at,
      actor: `${entry.actor.kind}:${entry.actor.id}`,
      summary: entry.action,
      auditSeq: [entry.seq],
    });
  }
  return {
    format: 'andon.case-export/1',
    exportedAt: new Date().toISOString(),
    case: item,
    deviations,
    alarms,
    drafts: versions.map((stored, index) => ({
      version: stored.draft.version,
      recordHash: stored.recordHash,
      createdAt: stored.createdAt,
      draft: stored.draft,
      diffFromPrevious: index === 0 ? null : draftDiff(versions[index - 1]!.draft, stored.draft),
    })),
    signatures: approvals.map((approval) => ({
      ...approval,
      check: checks.find((check) => check.approvalId === approval.id) as SignatureCheck,
    })),
    actions: executions,
    lineage,
    audit: {
      entries: audit,
      verification: {
        chain,
        excerpt: {
          entries: audit.length,
          hashesMatch: excerptBroken.length === 0,
          brokenSeq: excerptBroken.map((entry) => entry.seq),
        },
      },
    },
  };
}
export type CaseBundle = Awaited<ReturnType<typeof buildCaseBundle>>;

/** Escape text for HTML element content and attribute values. */
export const escapeHtml = (value: unknown): string =>
  String(value ?? '').replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );

const table = (headers: string[], rows: unknown[][]) =>
  `<table><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

/** The readable rendering of a bundle. Every value from the record is escaped. */
export function renderCaseBundle(bundle: CaseBundle): string {
  const item = bundle.case;
  const chain = bundle.audit.verification.chain;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`Case ${item.id} — inspection bundle`)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:8px;overflow:auto;white-space:pre-wrap}.ok{color:#075}.bad{color:#b00;font-weight:bold}</style>
</head><body>
<h1>${escapeHtml(`Case ${item.id}: ${item.title}`)}</h1>
<p>Status <strong>${escapeHtml(item.status)}</strong> · severity ${escapeHtml(item.severity)} · area ${escapeHtml(item.area ?? '—')} · opened ${escapeHtml(item.createdAt)} · exported ${escapeHtml(bundle.exportedAt)}</p>
<h2>Audit chain</h2>
<p class="${chain.ok ? 'ok' : 'bad'}">${escapeHtml(
    chain.ok
      ? `Whole chain verified: ${chain.entries} entries, every link intact.`
      : `Chain BROKEN at entry ${chain.firstBroken?.seq}: ${chain.firstBroken?.reason}.`,
  )} ${escapeHtml(
    bundle.audit.verification.excerpt.hashesMatch
      ? `All ${bundle.audit.verification.excerpt.entries} entries of this excerpt match their hashes.`
      : `Entries ${bundle.audit.verification.excerpt.brokenSeq.join(', ')} of this excerpt do not match their hashes.`,
  )}</p>
<h2>Electronic signatures</h2>
${table(
  ['signature (manifestation)', 'meaning', 'draft version', 'record hash (SHA-256)', 'comment', 'still valid?'],
  bundle.signatures.map((signature) => [
    signature.check.manifestation,
    signature.signature.meaning,
    `v${signature.draftVersion}`,
    signature.signature.recordHash,
    signature.comment,
    `${signature.check.status}: ${signature.check.reason}`,
  ]),
)}
<h2>Lineage: deviation → alarm → case → drafts → edits → signatures → actions → outcomes</h2>
${table(
  ['stage', 'what', 'subject', 'when', 'who', 'audit #'],
  bundle.lineage.map((step) => [step.stage, step.summary, step.id, step.at, step.actor, step.auditSeq.join(', ')]),
)}
<h2>Deviations</h2>
${table(
  ['id', 'tag', 'detector / rule', 'severity', 'detected', 'message'],
  bundle.deviations.map((deviation) => [
    deviation.id,
    deviation.tag,
    `${deviation.detector} / ${deviation.rule}`,
    deviation.severity,
    deviation.detectedAt,
    deviation.message,
  ]),
)}
<h2>Alarms</h2>
${table(
  ['key', 'state', 'priority', 'first seen', 'last seen'],
  bundle.alarms.map((alarm) => [alarm.key, alarm.state, alarm.priority, alarm.firstSeen, alarm.lastSeen]),
)}
<h2>Draft versions</h2>
${bundle.drafts
  .map(
    (
      version,
    ) => `<h3>${escapeHtml(`v${version.version} · ${version.draft.source} · by ${version.draft.author} · ${version.createdAt}`)}</h3>
<p>Record hash <code>${escapeHtml(version.recordHash)}</code></p>
<p>${escapeHtml(version.draft.summary)}</p>
${table(
  ['action', 'risk', 'preview'],
  version.draft.actions.map((action) => [action.type, action.risk, action.preview]),
)}
${
  version.diffFromPrevious
    ? `<details><summary>Changes from v${version.version - 1}: ${escapeHtml(Object.keys(version.diffFromPrevious).join(', ') || 'none')}</summary>${json(version.diffFromPrevious)}</details>`
    : ''
}
${bundle.signatures
  .filter((signature) => signature.draftVersion === version.version)
  .map((signature) => `<p><strong>${escapeHtml(signature.check.manifestation)}</strong></p>`)
  .join('')}`,
  )
  .join('\n')}
<h2>Actions and outcomes</h2>
${table(
  ['id', 'type', 'status', 'attempts', 'external id', 'idempotency key', 'last error'],
  bundle.actions.map((action) => [
    action.id,
    action.type,
    action.status,
    action.attempts,
    action.externalId ?? '',
    action.idempotencyKey,
    action.lastError ?? '',
  ]),
)}
<h2>Audit excerpt</h2>
${table(
  ['#', 'at', 'actor', 'action', 'subject', 'details', 'hash'],
  bundle.audit.entries.map((entry: AuditEntry) => [
    entry.seq,
    entry.at,
    `${entry.actor.kind}:${entry.actor.id}`,
    entry.action,
    entry.subject,
    JSON.stringify(entry.details),
    entry.hash,
  ]),
)}
</body></html>
`;
}

/** Write the bundle's JSON and HTML to `directory`; returns the two paths. */
export async function exportCase(stores: CaseStores, caseId: string, directory: string) {
  const bundle = await buildCaseBundle(stores, caseId);
  await mkdir(directory, { recursive: true });
  const safe = caseId.replace(/[^A-Za-z0-9_.-]/g, '_');
  const jsonPath = join(directory, `${safe}.json`);
  const htmlPath = join(directory, `${safe}.html`);
  await writeFile(jsonPath, `${JSON.stringify(bundle, null, 2)}\n`);
  await writeFile(htmlPath, renderCaseBundle(bundle));
  return { bundle, jsonPath, htmlPath };
}

export const command: Command = {
  name: 'case',
  summary: 'Cases: case export <id> [--output DIR] writes an inspection-ready JSON + HTML bundle',
  usage,
  async run(args) {
    const [verb, caseId, ...rest] = args;
    if (verb === '--help' || verb === '-h' || (verb === 'export' && caseId === '--help')) {
      console.log(usage);
      return 0;
    }
    if (verb !== 'export' || !caseId || caseId.startsWith('-')) {
      console.error(usage);
      return 2;
    }
    const values = parseCommandArgs(rest, { output: { type: 'string' } }, usage);
    if (typeof values === 'number') return values;
    const directory = resolve(String(values.output ?? `andon-export-${caseId.replace(/[^A-Za-z0-9_.-]/g, '_')}`));
    const stores = await openStores(loadConfig());
    try {
      const { bundle, jsonPath, htmlPath } = await exportCase(stores, caseId, directory);
      const chain = bundle.audit.verification.chain;
      console.log(`wrote ${jsonPath}\nwrote ${htmlPath}`);
      console.log(
        chain.ok
          ? `audit chain ok: ${chain.entries} entries verified; ${bundle.audit.entries.length} in this case's excerpt`
          : `audit chain BROKEN at entry ${chain.firstBroken?.seq}: ${chain.firstBroken?.reason}`,
      );
      return chain.ok ? 0 : 1;
    } finally {
      await stores.database.close();
    }
  },
};
