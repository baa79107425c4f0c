import { z } from 'zod';
import type { CapaPlan, Case } from '../core/index.ts';
import type { KnowledgeBase } from './knowledge-base.ts';
import type { AddResult } from './types.ts';

/** What a closed case teaches: the parts worth finding again when the next deviation looks similar. */
export const ClosedIncident = z.object({
  caseId: z.string().min(1),
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).default(''),
  /** Signals involved, e.g. "HS101.JawTemp drifted +6 °C over 3 h (CUSUM)". */
  signals: z.array(z.string().max(1000)).max(100).default([]),
  rootCause: z.object({
    statement: z.string().min(1).max(4000),
    /** Root-cause category; retrieval of past incidents votes on it. */
    category: z.string().min(1).max(200),
  }),
  /** CAPA items as plain sentences, or an 8D plan. */
  capa: z.array(z.string().max(4000)).max(100).default([]),
  outcome: z.string().max(4000).default(''),
  closedAt: z.iso.datetime({ offset: true }),
  plant: z.string().max(200).optional(),
  line: z.string().max(200).optional(),
  asset: z.string().max(200).optional(),
  productFamily: z.string().max(200).optional(),
});
export type ClosedIncident = z.input<typeof ClosedIncident>;

/** Flatten an 8D CAPA plan into the sentences an incident record keeps. */
export function capaSentences(plan: CapaPlan): string[] {
  const parts: [string, { text: string }[]][] = [
    ['Containment', plan.containment],
    ['Corrective', plan.corrective],
    ['Preventive', plan.preventive],
    ['Effectiveness check', plan.effectiveness],
  ];
  return parts.flatMap(([label, items]) => items.map((item) => `${label}: ${item.text}`));
}

/** Build the incident record of a closed case (Markdown, so the chunker keeps its sections). */
export function incidentDocument(input: ClosedIncident) {
  const incident = ClosedIncident.parse(input);
  const lines = [`# Incident ${incident.caseId}: ${incident.title}`, ''];
  if (incident.description.trim() !== '') lines.push('## Description', '', incident.description.trim(), '');
  if (incident.signals.length > 0) lines.push('## Signals involved', '', ...incident.signals.map((s) => `- ${s}`), '');
  lines.push(
    '## Confirmed root cause',
    '',
    `Category: ${incident.rootCause.category}`,
    '',
    incident.rootCause.statement,
    '',
  );
  if (incident.capa.length > 0) lines.push('## CAPA', '', ...incident.capa.map((item) => `- ${item}`), '');
  if (incident.outcome.trim() !== '') lines.push('## Outcome', '', incident.outcome.trim(), '');
  return {
    title: `Incident ${incident.caseId}: ${incident.title}`,
    kind: 'incident' as const,
    documentNumber: `INC-${incident.caseId}`,
    key: `case:${incident.caseId}`,
    effectiveDate: incident.closedAt.slice(0, 10),
    text: lines.join('\n'),
    metadata: {
      caseId: incident.caseId,
      category: incident.rootCause.category,
      signals: incident.signals,
      closedAt: incident.closedAt,
    },
    ...(incident.plant === undefined ? {} : { plant: incident.plant }),
    ...(incident.line === undefined ? {} : { line: incident.line }),
    ...(incident.asset === undefined ? {} : { asset: incident.asset }),
    ...(incident.productFamily === undefined ? {} : { productFamily: incident.productFamily }),
  };
}

/**
 * Index a closed case as an incident: description, signals, confirmed root cause, CAPA and outcome. Re-indexing the
 * same case with new content supersedes the previous record; identical content is a no-op. This is how the knowledge
 * base learns: the next similar deviation retrieves it, and its root-cause category gets a vote.
 *
 * @example
 * await indexIncident(kb, { caseId: 'C-42', title: 'Seal temperature drift on HS-101', rootCause: { statement: '…', category: 'Thermocouple drift' }, closedAt });
 */
export async function indexIncident(
  knowledgeBase: Pick<KnowledgeBase, 'add'>,
  input: ClosedIncident,
): Promise<AddResult> {
  return knowledgeBase.add(incidentDocument(input));
}

/** The incident fields a case supplies itself; the rest (root cause, CAPA, outcome) comes from its approved draft. */
export function incidentFromCase(
  closed: Case,
  details: Omit<ClosedIncident, 'caseId' | 'title' | 'description' | 'line' | 'asset'>,
): ClosedIncident {
  return {
    caseId: closed.id,
    title: closed.title,
    description: closed.description,
    ...(closed.context.line === undefined ? {} : { line: closed.context.line }),
    ...(closed.context.asset === undefined ? {} : { asset: closed.context.asset }),
    ...details,
  };
}
