import { Annotation } from '@langchain/langgraph';
import { z } from 'zod';
import type { ActionProposal, CapaPlan, Draft, Evidence, Hypothesis } from '../core/index.ts';
import type { EffectivenessResult } from './effectiveness.ts';
import type { HumanCapaEdits } from './human-edits.ts';
import type { PolicyCheck } from './policy.ts';

/**
 * What reaches the approval gate on resume: a signed approval or rejection, an edit that made a new draft version
 * (which then needs its own approval), or the expiry of the request (which escalates; it never approves).
 */
export const GateDecision = z.discriminatedUnion('decision', [
  z.object({
    decision: z.enum(['approve', 'reject']),
    approvalId: z.string().min(1),
    signerId: z.string().min(1),
    comment: z.string().default(''),
    draftVersion: z.number().int().positive(),
  }),
  z.object({
    decision: z.literal('edit'),
    editorId: z.string().min(1),
    comment: z.string().default(''),
    /** The new version the edit created. */
    draftVersion: z.number().int().positive(),
  }),
  z.object({
    decision: z.literal('timeout'),
    /** The version whose approval request expired. */
    draftVersion: z.number().int().positive(),
  }),
]);
export type GateDecision = z.infer<typeof GateDecision>;

/** What wakes a thread waiting for its effectiveness check: the scheduled check of that round fell due. */
export const EffectivenessDue = z.object({ due: z.literal('effectiveness_check'), round: z.number().int().positive() });
export type EffectivenessDue = z.infer<typeof EffectivenessDue>;

/** What intake established about the case before any evidence is gathered. */
export interface IntakeSummary {
  title: string;
  severity: string;
  tags: string[];
  detectors: string[];
  deviations: number;
  firstDetectedAt: string | null;
}

/** The drafter's answer as the hypothesize step received it; plan CAPA and propose actions refine their parts of it. */
export type DrafterOutput = Pick<Draft, 'source' | 'model' | 'author' | 'summary' | 'capa' | 'actions' | 'flags'> &
  Partial<Pick<Draft, 'usage' | 'promptVersion'>>;

/** The scheduled effectiveness check of one round and, once it ran, its result. */
export interface EffectivenessState {
  round: number;
  actedAt: string;
  dueAt: string;
  result: EffectivenessResult | null;
}

const replace = <T>(fallback: () => T) => Annotation<T>({ reducer: (_, next) => next, default: fallback });

/** Per-case triage state. Large records (drafts, deviations) live in the database; the state keeps references. */
export const TriageState = Annotation.Root({
  caseId: Annotation<string>(),
  caseSummary: replace<IntakeSummary | null>(() => null),
  evidence: replace<Evidence | null>(() => null),
  /** The drafter's output for the version being prepared (cleared once that version is stored). */
  drafted: replace<DrafterOutput | null>(() => null),
  hypotheses: replace<Hypothesis[]>(() => []),
  capa: replace<CapaPlan | null>(() => null),
  /** CAPA fields people edited, as they left them: a redraft after a rejection keeps them instead of overwriting. */
  humanCapa: replace<HumanCapaEdits>(() => ({})),
  proposals: replace<ActionProposal[]>(() => []),
  /** Flags the refinement steps raised for the reviewer (removed citations, dropped proposals, policy findings). */
  flags: replace<string[]>(() => []),
  policy: replace<PolicyCheck | null>(() => null),
  draftVersion: replace<number>(() => 0),
  decision: replace<GateDecision | null>(() => null),
  rejections: replace<number>(() => 0),
  /** How many times the approval request expired and went to the next role. */
  escalations: replace<number>(() => 0),
  effectiveness: replace<EffectivenessState | null>(() => null),
  error: replace<string | null>(() => null),
  outcome: replace<string | null>(() => null),
  /** The incident the learn step indexed. */
  learned: replace<{ documentId: string; status: string } | null>(() => null),
});
export type TriageState = typeof TriageState.State;
export type TriageUpdate = typeof TriageState.Update;
