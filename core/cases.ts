import { z } from 'zod';
import { Severity } from './deviations.ts';

export const CaseStatus = z.enum([
  'open',
  'triaging',
  'awaiting_approval',
  'approved',
  'executing',
  'rejected',
  'escalated',
  'closed',
]);
export type CaseStatus = z.infer<typeof CaseStatus>;

export const ProductionContext = z.object({
  line: z.string().optional(),
  product: z.string().optional(),
  lot: z.string().optional(),
  order: z.string().optional(),
});
export type ProductionContext = z.infer<typeof ProductionContext>;

export const Case = z.object({
  id: z.string().min(1),
  title: z.string().max(500),
  /** Free text of a reported problem; empty for a case opened by a detector. */
  description: z.string().max(20_000).default(''),
  status: CaseStatus,
  severity: Severity,
  area: z.string().nullable(),
  tags: z.array(z.string()),
  context: ProductionContext,
  deviationIds: z.array(z.string()),
  threadId: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type Case = z.infer<typeof Case>;
