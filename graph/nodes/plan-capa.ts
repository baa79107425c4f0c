import { verifyCitations } from '../../agent/index.ts';
import { AndonError, type CapaItem, type CapaPlan } from '../../core/index.ts';
import { keepCapaEdits } from '../human-edits.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

const defaultOwners: Record<'containment' | 'rootCause' | 'corrective' | 'preventive' | 'effectiveness', string> = {
  containment: 'Line supervisor',
  rootCause: 'Process engineer',
  corrective: 'Maintenance technician',
  preventive: 'Process engineer',
  effectiveness: 'Quality lead',
};

const addDays = (day: string, days: number) => {
  const date = new Date(`${day}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
};

/**
 * Plan CAPA: the 8D plan from the drafter's suggestion, with every citation verified, an owner and a due date on each
 * item, and a verification of effectiveness that names the check andon will run after the verification period. On a
 * redraft, the fields a person edited in an earlier version stay as they wrote them (see keepCapaEdits).
 */
export const makePlanCapa =
  ({ clock, verificationHours }: Pick<TriagePorts, 'clock' | 'verificationHours'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    if (!state.drafted || !state.evidence)
      throw new AndonError('internal', 'Planning CAPA needs the hypothesize step’s output; it produced none.');
    const passages = [...state.evidence.sops, ...state.evidence.incidents];
    const today = clock.now().toISOString().slice(0, 10);
    const hours = verificationHours ?? 336;
    const verificationDays = Math.max(1, Math.ceil(hours / 24));
    let removed = 0;
    const items = (part: keyof typeof defaultOwners, dueInDays: number): CapaItem[] =>
      state.drafted!.capa[part].map((item) => {
        const { valid, invalid } = verifyCitations(item.citations, passages);
        removed += invalid.length;
        return {
          ...item,
          owner: item.owner ?? defaultOwners[part],
          due: item.due ?? addDays(today, dueInDays),
          citations: valid,
        };
      });
    const tags = state.caseSummary?.tags.join(', ') || 'the signal';
    const effectiveness = items('effectiveness', verificationDays);
    const check = `andon re-runs the detectors that raised this case on ${tags} ${hours} hour(s) after the action is handed over; the deviation must be gone.`;
    const redrafted: CapaPlan = {
      team: state.drafted.capa.team,
      problem: state.drafted.capa.problem,
      containment: items('containment', 0),
      rootCause: items('rootCause', 3),
      corrective: items('corrective', 7),
      preventive: items('preventive', 30),
      effectiveness: [
        ...effectiveness,
        { text: check, owner: defaultOwners.effectiveness, due: addDays(today, verificationDays), citations: [] },
      ].slice(0, 20),
    };
    // a redraft after a rejection keeps every CAPA field a person edited, and flags what it would have written instead
    const { capa, flags: kept } = keepCapaEdits(redrafted, state.humanCapa);
    const flags = [
      ...(removed > 0 ? [`Removed ${removed} CAPA citation(s) not found verbatim in retrieved text.`] : []),
      ...kept,
    ];
    return { capa, ...(flags.length > 0 ? { flags: [...state.flags, ...flags] } : {}), error: null };
  };
