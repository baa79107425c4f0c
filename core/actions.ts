import { z } from 'zod';
import { ActionType } from './drafts.ts';

export const ExecutionStatus = z.enum(['pending', 'sending', 'succeeded', 'failed', 'dead']);
export type ExecutionStatus = z.infer<typeof ExecutionStatus>;

/** One approved action on its way out through the outbox. */
export const ActionExecution = z.object({
  id: z.string().min(1),
  caseId: z.string().min(1),
  proposalId: z.string().min(1),
  type: ActionType,
  params: z.record(z.string(), z.unknown()),
  idempotencyKey: z.string().min(8),
  status: ExecutionStatus,
  attempts: z.number().int().nonnegative(),
  externalId: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type ActionExecution = z.infer<typeof ActionExecution>;
