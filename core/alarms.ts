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

/** How much an asset matters to safety, quality and output; with a deviation's severity it sets an alarm's priority. */
export const Criticality = z.enum(['low', 'medium', 'high']);
export type Criticality = z.infer<typeof Criticality>;

/** What a case turned out to be, recorded by an operator or engineer; false alarms feed tuning proposals. */
export const Disposition = z.enum(['true_deviation', 'false_alarm', 'planned']);
export type Disposition = z.infer<typeof Disposition>;

/** A maintenance work order on an asset, as the CMMS/ERP reports it. */
export const WorkOrderSummary = z.object({
  id: z.string().min(1),
  asset: z.string(),
  title: z.string(),
  status: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type WorkOrderSummary = z.infer<typeof WorkOrderSummary>;

/** A recent change on an asset: recipe, setpoint, software, material or procedure. */
export const ChangeSummary = z.object({
  id: z.string().min(1),
  asset: z.string(),
  kind: z.string(),
  description: z.string(),
  at: z.iso.datetime({ offset: true }),
});
export type ChangeSummary = z.infer<typeof ChangeSummary>;

/** Where an alarm sits in the plant: what case intake asks the context ports about. */
export interface PlantScope {
  tag: string;
  asset: string | null;
  area: string | null;
}

/** Product, lot or batch and order running on an asset at a time; the ERP/MES connector fills it. */
export interface ProductionContextPort {
  contextAt(
    scope: PlantScope,
    time: string,
  ): Promise<{ product?: string; lot?: string; batch?: string; order?: string } | null>;
}

/** Recent maintenance work orders and recent changes on an asset (CMMS, MoC); a sandbox implementation serves the demo. */
export interface AssetHistoryPort {
  recentWorkOrders(asset: string, since: string, until: string): Promise<WorkOrderSummary[]>;
  recentChanges(asset: string, since: string, until: string): Promise<ChangeSummary[]>;
}
