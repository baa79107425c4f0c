import type { Approval, Case, Deviation, Draft } from '../core/index.ts';
import type { EvalCase } from './dataset.ts';

export interface ExportSources {
  cases: {
    list(filter: { status?: 'closed'; limit?: number }): Promise<Case[]>;
    deviations(id: string): Promise<Deviation[]>;
  };
  drafts: { versions(caseId: string): Promise<{ draft: Draft }[]> };
  approvals: { forCase(caseId: string): Promise<Approval[]> };
}

export interface ExportResult {
  cases: EvalCase[];
  /** Closed cases left out, with the reason (no signed approval, no hypothesis). */
  skipped: { caseId: string; reason: string }[];
}

/**
 * Closed cases as eval cases, so the eval set grows with real use. The label is the category a person confirmed: the
 * top hypothesis of the draft version that was approved with an electronic signature (the approver signed that
 * ranking). Cases closed without a signed approval, or whose approved draft had no hypothesis, are skipped and listed.
 */
export async function exportClosedCases(sources: ExportSources, limit = 500): Promise<ExportResult> {
  const closed = await sources.cases.list({ status: 'closed', limit });
  const exported: EvalCase[] = [];
  const skipped: ExportResult['skipped'] = [];
  for (const item of closed) {
    const approvals = await sources.approvals.forCase(item.id);
    const approved = approvals.filter((approval) => approval.decision === 'approve').at(-1);
    if (!approved) {
      skipped.push({ caseId: item.id, reason: 'closed without a signed approval' });
      continue;
    }
    const versions = await sources.drafts.versions(item.id);
    const draft = versions.find((stored) => stored.draft.version === approved.draftVersion)?.draft;
    const category = draft?.hypotheses[0]?.category;
    if (!category) {
      skipped.push({ caseId: item.id, reason: `approved draft v${approved.draftVersion} has no hypothesis` });
      continue;
    }
    const deviations = await sources.cases.deviations(item.id);
    exported.push({
      id: item.id,
      input: {
        text: item.description.trim() !== '' ? item.description : item.title,
        title: item.title,
        ...(deviations.length > 0 ? { deviations } : {}),
        ...(Object.keys(item.context).length > 0 ? { context: item.context } : {}),
      },
      expected: { category },
      tags: [...new Set(['exported', ...item.tags])],
    });
  }
  return { cases: exported, skipped };
}

/** Eval cases as JSONL, one per line. */
export const toJsonl = (cases: readonly EvalCase[]): string =>
  cases.map((item) => JSON.stringify(item)).join('\n') + (cases.length > 0 ? '\n' : '');
