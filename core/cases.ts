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
  /** Case intake from alarms adds these (all optional, so earlier cases still parse). */
  batch: z.string().optional(),
  asset: z.string().optional(),
  area: z.string().optional(),
  /** The plant, where one andon serves several (role scopes such as quality_lead@plant-a/area-packaging). */
  plant: z.string().optional(),
  criticality: z.enum(['low', 'medium', 'high']).optional(),
  workOrders: z
    .array(z.object({ id: z.string(), asset: z.string(), title: z.string(), status: z.string(), at: z.string() }))
    .optional(),
  recentChanges: z
    .array(z.object({ id: z.string(), asset: z.string(), kind: z.string(), description: z.string(), at: z.string() }))
    .optional(),
  /** Set on the case that groups the alarms of a flood in one area. */
  flood: z.object({ id: z.string(), area: z.string(), startedAt: z.string() }).optional(),
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
