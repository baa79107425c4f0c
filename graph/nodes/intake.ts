import { AndonError } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/** Intake: the case exists, triage has started, and what raised it (tags, detectors, first detection) is on record. */
export const makeIntake =
  ({ cases, audit }: Pick<TriagePorts, 'cases' | 'audit'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const found = await cases.get(state.caseId);
    if (!found) throw new AndonError('not_found', `Case ${state.caseId} does not exist.`);
    const deviations = await cases.deviations(state.caseId);
    const intake = {
      title: found.title,
      severity: found.severity,
      tags: [...new Set([...found.tags, ...deviations.map((deviation) => deviation.tag)])],
      detectors: [...new Set(deviations.map((deviation) => `${deviation.detector}:${deviation.rule}`))],
      deviations: deviations.length,
      firstDetectedAt: deviations[0]?.detectedAt ?? null,
    };
    await cases.setStatus(state.caseId, 'triaging', { onlyFrom: ['open', 'triaging'] });
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'triage.started',
      subject: state.caseId,
      caseId: state.caseId,
      details: { ...intake },
    });
    return { caseSummary: intake, error: null };
  };
