import type { Approval, Case, Deviation, Draft } from '../core/index.ts';
import type { EvalCase } from './dataset.ts';

export interface ExportSources {
  cases: {
    list(filter: { status?: 'closed'; limit?: number }): Promise<Case[]>;
    deviations(id: string): Promise<Deviation[]>;
  };
  drafts: { versions(caseId: string): Promise<{ draft: Draft }[]> };
  approvals: { forCase(caseId: string): Promise<Approval[]> };
  /** The root cause a person confirmed at close-out (store/root-causes.ts): the label when present. */
  rootCauses?: { get(caseId: string): Promise<{ category: string } | null> };
}

/** Where a case's label came from; also a tag on the exported case (`label:confirmed`, `label:approved-hypothesis`). */
export type LabelSource = 'confirmed' | 'approved-hypothesis';

export interface ExportResult {
  cases: EvalCase[];
  /** Closed cases left out, with the reason (no signed approval, no hypothesis). */
  skipped: { caseId: string; reason: string }[];
  /** Cases without a confirmed root cause, labelled with the top hypothesis of the approved draft instead. */
  fallbacks: { caseId: string; category: string }[];
}

/**
 * Closed cases as eval cases, so the eval set grows with real use. The label is the root-cause category a person
 * confirmed at close-out. Where nobody confirmed one (cases closed before that step existed, or left unconfirmed), the
 * label falls back to the top hypothesis of the draft version approved with an electronic signature (the approver
 * signed that ranking); such cases are tagged `label:approved-hypothesis` and listed in `fallbacks`, so a reader can
 * tell the two apart or drop them (`confirmedOnly`). Cases with neither are skipped and listed.
 */
export async function exportClosedCases(
  sources: ExportSources,
  limit = 500,
  options: { confirmedOnly?: boolean } = {},
): Promise<ExportResult> {
  const closed = await sources.cases.list({ status: 'closed', limit });
  const exported: EvalCase[] = [];
  const skipped: ExportResult['skipped'] = [];
  const fallbacks: ExportResult['fallbacks'] = [];
  for (const item of closed) {
    const label = await labelOf(sources, item.id, options.confirmedOnly === true);
    if ('reason' in label) {
      skipped.push({ caseId: item.id, reason: label.reason });
      continue;
    }
    if (label.source === 'approved-hypothesis') fallbacks.push({ caseId: item.id, category: label.category });
    const deviations = await sources.cases.deviations(item.id);
    exported.push({
      id: item.id,
      input: {
        text: item.description.trim() !== '' ? item.description : item.title,
        title: item.title,
        ...(deviations.length > 0 ? { deviations } : {}),
        ...(Object.keys(item.context).length > 0 ? { context: item.context } : {}),
      },
      expected: { category: label.category },
      tags: [...new Set(['exported', `label:${label.source}`, ...item.tags])],
    });
  }
  return { cases: exported, skipped, fallbacks };
}

async function labelOf(
  sources: ExportSources,
  caseId: string,
  confirmedOnly: boolean,
): Promise<{ category: string; source: LabelSource } | { reason: string }> {
  const confirmed = await sources.rootCauses?.get(caseId);
  if (confirmed) return { category: confirmed.category, source: 'confirmed' };
  if (confirmedOnly) return { reason: 'no root cause was confirmed at close-out' };
  const approvals = await sources.approvals.forCase(caseId);
  const approved = approvals.filter((approval) => approval.decision === 'approve').at(-1);
  if (!approved) return { reason: 'no confirmed root cause, and closed without a signed approval' };
  const versions = await sources.drafts.versions(caseId);
  const draft = versions.find((stored) => stored.draft.version === approved.draftVersion)?.draft;
  const category = draft?.hypotheses[0]?.category;
  if (!category)
    return { reason: `no confirmed root cause, and the approved draft v${approved.draftVersion} has no hypothesis` };
  return { category, source: 'approved-hypothesis' };
}

/** Eval cases as JSONL, one per line. */
export const toJsonl = (cases: readonly EvalCase[]): string =>
  cases.map((item) => JSON.stringify(item)).join('\n') + (cases.length > 0 ? '\n' : '');
