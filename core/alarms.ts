import { z } from 'zod';
import { Severity } from './deviations.ts';
import { TagId } from './readings.ts';

/** ISA-18.2 / IEC 62682 alarm states. */
export const AlarmState = z.enum([
  'normal',
  'unacknowledged_active',
  'acknowledged_active',
  'unacknowledged_rtn',
  'shelved',
  'suppressed',
  'out_of_service',
]);
export type AlarmState = z.infer<typeof AlarmState>;

export const Priority = z.enum(['low', 'medium', 'high']);
export type Priority = z.infer<typeof Priority>;

export const Alarm = z.object({
  id: z.string().min(1),
  key: z.string().min(1),
  tag: TagId,
  detector: z.string(),
  rule: z.string(),
  state: AlarmState,
  priority: Priority,
  severity: Severity,
  area: z.string().optional(),
  count: z.number().int().positive(),
  firstSeen: z.iso.datetime({ offset: true }),
  lastSeen: z.iso.datetime({ offset: true }),
  caseId: z.string().nullable(),
});
export type Alarm = z.infer<typeof Alarm>;
