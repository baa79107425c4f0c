import { AndonError } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Schedule the effectiveness check: a durable row (case, round, due time) that app/'s poller picks up after the CAPA's
 * verification period, so the check survives restarts and days. A later round (the last one found too little data)
 * keeps the original hand-off time, so every reading after the action counts.
 */
export const makeScheduleEffectivenessCheck =
  ({
    schedule,
    audit,
    clock,
    verificationHours,
  }: Pick<TriagePorts, 'schedule' | 'audit' | 'clock' | 'verificationHours'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    if (!schedule) throw new AndonError('internal', 'No effectiveness schedule is wired.');
    const now = clock.now();
    const round = (state.effectiveness?.round ?? 0) + 1;
    const actedAt = state.effectiveness?.actedAt ?? now.toISOString();
    const dueAt = new Date(now.getTime() + (verificationHours ?? 336) * 3_600_000).toISOString();
    await schedule.schedule({ caseId: state.caseId, round, actedAt: new Date(actedAt), dueAt: new Date(dueAt) });
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'effectiveness.scheduled',
      subject: state.caseId,
      caseId: state.caseId,
      details: {
        round,
        actedAt,
        dueAt,
        message: `the detectors that raised the case check it again at ${dueAt}${round > 1 ? ` (round ${round}: the last check had too little data)` : ''}.`,
      },
    });
    return { effectiveness: { round, actedAt, dueAt, result: null }, error: null };
  };
