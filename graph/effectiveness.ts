import { z } from 'zod';
import type { Deviation } from '../core/index.ts';

/** The figures of one signal's effectiveness check: how it behaved after the action, against its in-control model. */
export const SignalVerdict = z.object({
  tag: z.string(),
  /** Detectors that raised the case on this tag, e.g. ["ewma:limit", "cusum:upper"]. */
  detectors: z.array(z.string()),
  baselineSamples: z.number().int().nonnegative(),
  samplesAfter: z.number().int().nonnegative(),
  center: z.number().nullable(),
  sigma: z.number().nullable(),
  meanAfter: z.number().nullable(),
  /** (mean after − center) / sigma. */
  shiftSigmas: z.number().nullable(),
  /** Deviations the same detectors raised on the readings after the action. */
  alarms: z.array(z.object({ detector: z.string(), rule: z.string(), at: z.string(), message: z.string() })),
  verdict: z.enum(['effective', 'not_effective', 'insufficient_data']),
});
export type SignalVerdict = z.infer<typeof SignalVerdict>;

/** Whether the deviation is gone after the CAPA's verification period, by the detectors that raised the case. */
export const EffectivenessResult = z.object({
  verdict: z.enum(['effective', 'not_effective', 'insufficient_data']),
  checkedAt: z.iso.datetime({ offset: true }),
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  signals: z.array(SignalVerdict),
  /** One sentence with the figures, for the case page, the audit log and the case's Slack thread. */
  summary: z.string(),
});
export type EffectivenessResult = z.infer<typeof EffectivenessResult>;

export interface EffectivenessCheckInput {
  caseId: string;
  deviations: Deviation[];
  /** When the action was handed over: readings from here on count. */
  from: Date;
  to: Date;
}

/** Re-runs the detectors that raised a case on the readings after its action. app/ wires detection/ and the store. */
export interface EffectivenessCheckPort {
  check(input: EffectivenessCheckInput): Promise<EffectivenessResult>;
}

/** Durable schedule of effectiveness checks: a row per case and round, polled by app/ (never only a timer). */
export interface EffectivenessSchedulePort {
  schedule(input: { caseId: string; round: number; actedAt: Date; dueAt: Date }): Promise<void>;
  record(input: { caseId: string; round: number; result: EffectivenessResult }): Promise<void>;
}
