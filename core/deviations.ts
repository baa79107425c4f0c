import { z } from 'zod';
import { TagId } from './readings.ts';

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const EvidencePoint = z.object({ t: z.iso.datetime({ offset: true }), value: z.number() });
export type EvidencePoint = z.infer<typeof EvidencePoint>;

export const Contribution = z.object({ tag: TagId, share: z.number() });
export type Contribution = z.infer<typeof Contribution>;

/** A detector's finding: which rule fired on which tag, against which limits, with the samples that show it. */
export const Deviation = z.object({
  id: z.string().min(1),
  tag: TagId,
  detector: z.string().min(1),
  rule: z.string().min(1),
  severity: Severity,
  detectedAt: z.iso.datetime({ offset: true }),
  value: z.number(),
  statistic: z.number(),
  limits: z.object({ lower: z.number().nullable(), center: z.number().nullable(), upper: z.number().nullable() }),
  message: z.string(),
  window: z.array(EvidencePoint).max(2000),
  contributions: z.array(Contribution).default([]),
  area: z.string().optional(),
  asset: z.string().optional(),
});
export type Deviation = z.infer<typeof Deviation>;
