import { Annotation } from '@langchain/langgraph';
import { z } from 'zod';
import type { Evidence } from '../core/index.ts';

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

/** Per-case triage state. Large records (drafts, deviations) live in the database; the state keeps references. */
export const TriageState = Annotation.Root({
  caseId: Annotation<string>(),
  evidence: Annotation<Evidence | null>({ reducer: (_, next) => next, default: () => null }),
  draftVersion: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  decision: Annotation<GateDecision | null>({ reducer: (_, next) => next, default: () => null }),
  rejections: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  /** How many times the approval request expired and went to the next role. */
  escalations: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  error: Annotation<string | null>({ reducer: (_, next) => next, default: () => null }),
  outcome: Annotation<string | null>({ reducer: (_, next) => next, default: () => null }),
});
export type TriageState = typeof TriageState.State;
export type TriageUpdate = typeof TriageState.Update;
