import { Annotation } from '@langchain/langgraph';
import { z } from 'zod';
import type { Evidence } from '../core/index.ts';

/** What a human's signed decision hands the approval gate on resume. */
export const GateDecision = z.object({
  decision: z.enum(['approve', 'reject']),
  approvalId: z.string().min(1),
  signerId: z.string().min(1),
  comment: z.string().default(''),
  draftVersion: z.number().int().positive(),
});
export type GateDecision = z.infer<typeof GateDecision>;

/** Per-case triage state. Large records (drafts, deviations) live in the database; the state keeps references. */
export const TriageState = Annotation.Root({
  caseId: Annotation<string>(),
  evidence: Annotation<Evidence | null>({ reducer: (_, next) => next, default: () => null }),
  draftVersion: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  decision: Annotation<GateDecision | null>({ reducer: (_, next) => next, default: () => null }),
  rejections: Annotation<number>({ reducer: (_, next) => next, default: () => 0 }),
  error: Annotation<string | null>({ reducer: (_, next) => next, default: () => null }),
  outcome: Annotation<string | null>({ reducer: (_, next) => next, default: () => null }),
});
export type TriageState = typeof TriageState.State;
export type TriageUpdate = typeof TriageState.Update;
