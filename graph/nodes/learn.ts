import type { CapaPlan } from '../../core/index.ts';
import { AndonError } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

const capaSentences = (plan: CapaPlan): string[] =>
  (
    [
      ['Containment', plan.containment],
      ['Corrective', plan.corrective],
      ['Preventive', plan.preventive],
      ['Effectiveness check', plan.effectiveness],
    ] as const
  ).flatMap(([label, items]) => items.map((item) => `${label}: ${item.text}`));

/**
 * Learn: index the closed case as an incident (description, signals involved, the approved root cause, CAPA and
 * outcome) so the next similar deviation retrieves it and its root-cause category gets a vote.
 */
export const makeLearn =
  ({
    cases,
    drafts,
    incidents,
    audit,
    clock,
  }: Pick<TriagePorts, 'cases' | 'drafts' | 'incidents' | 'audit' | 'clock'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    if (!incidents) return { learned: null };
    const found = await cases.get(state.caseId);
    const draft = await drafts.latest(state.caseId);
    if (!found || !draft) throw new AndonError('not_found', `Case ${state.caseId} or its approved draft is missing.`);
    const top = draft.hypotheses[0];
    if (!top)
      return { learned: null, outcome: `${state.outcome ?? 'closed'} Not indexed: the draft named no root cause.` };
    const deviations = await cases.deviations(state.caseId);
    const signals = [
      ...deviations.map(
        (deviation) =>
          `${deviation.tag}: ${deviation.detector}/${deviation.rule} at ${deviation.detectedAt}: ${deviation.message}`,
      ),
      ...(state.evidence?.signals ?? []).map(
        (signal) =>
          `${signal.tag}: ${signal.samples} samples, mean ${signal.mean?.toPrecision(5) ?? '-'}, slope ${signal.slopePerMinute?.toPrecision(3) ?? '-'} per minute`,
      ),
    ];
    const learned = await incidents.index({
      caseId: found.id,
      title: found.title,
      description: found.description || draft.capa.problem,
      signals,
      rootCause: { statement: top.statement, category: top.category },
      capa: capaSentences(draft.capa),
      outcome: state.outcome ?? '',
      closedAt: clock.now().toISOString(),
      ...(found.context.line ? { line: found.context.line } : {}),
      ...(found.context.asset ? { asset: found.context.asset } : {}),
    });
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'incident.indexed',
      subject: state.caseId,
      caseId: state.caseId,
      details: { documentId: learned.documentId, status: learned.status, category: top.category },
    });
    return { learned };
  };
