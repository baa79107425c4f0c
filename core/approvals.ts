import { z } from 'zod';

export const SignatureMeaning = z.enum(['approved', 'reviewed', 'rejected', 'verified']);
export type SignatureMeaning = z.infer<typeof SignatureMeaning>;

/** A Part 11 style electronic signature: who, when, with what meaning, over exactly which record version. */
export const Signature = z.object({
  signerId: z.string().min(1),
  printedName: z.string().min(1),
  signedAt: z.iso.datetime({ offset: true }),
  meaning: SignatureMeaning,
  recordHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Signature = z.infer<typeof Signature>;

export const Decision = z.enum(['approve', 'reject']);
export type Decision = z.infer<typeof Decision>;

/** What a human sends to the approval gate. */
export const DecisionRequest = z.object({
  decision: Decision,
  comment: z.string().max(4000).default(''),
});
export type DecisionRequest = z.infer<typeof DecisionRequest>;

export const Approval = z.object({
  id: z.string().min(1),
  caseId: z.string().min(1),
  draftVersion: z.number().int().positive(),
  decision: Decision,
  comment: z.string(),
  signature: Signature,
});
export type Approval = z.infer<typeof Approval>;
