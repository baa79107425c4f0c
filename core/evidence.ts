import { z } from 'zod';
import { Citation } from './drafts.ts';
import { TagId } from './readings.ts';

/** Statistics of one signal over the evidence window, for the drafter and the case page. */
export const SignalSummary = z.object({
  tag: TagId,
  samples: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  stdev: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** Least-squares slope in units per minute. */
  slopePerMinute: z.number().nullable(),
  first: z.iso.datetime({ offset: true }).nullable(),
  last: z.iso.datetime({ offset: true }).nullable(),
});
export type SignalSummary = z.infer<typeof SignalSummary>;

/** A retrieved passage as the graph keeps it: citation, text and where it came from. */
export const RetrievedPassage = z.object({
  citation: Citation,
  text: z.string(),
  score: z.number(),
  kind: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
export type RetrievedPassage = z.infer<typeof RetrievedPassage>;

/** Everything the drafter may use. Retrieved text is data, never instructions. */
export const Evidence = z.object({
  query: z.string(),
  signals: z.array(SignalSummary),
  sops: z.array(RetrievedPassage),
  incidents: z.array(RetrievedPassage),
});
export type Evidence = z.infer<typeof Evidence>;
