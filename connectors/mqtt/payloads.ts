import { z } from 'zod';
import { Quality, TagId } from '../../core/index.ts';

/** ISO 8601 with an offset, or epoch milliseconds. */
export const PayloadTimestamp = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int().min(0).max(8_640_000_000_000_000),
]);

/** Default convention, one sample: the tag comes from the topic. */
export const ReadingPayload = z.object({
  value: z.number(),
  timestamp: PayloadTimestamp.optional(),
  quality: Quality.optional(),
  unit: z.string().max(40).optional(),
});
export type ReadingPayload = z.infer<typeof ReadingPayload>;

/** Default convention, several samples in one message, each naming its full tag. */
export const ReadingBatchPayload = z.object({
  readings: z
    .array(ReadingPayload.extend({ tag: TagId }))
    .min(1)
    .max(10_000),
});
export type ReadingBatchPayload = z.infer<typeof ReadingBatchPayload>;

/** What is being made on a line: published on `<prefix>/<area>/<line>/context`. */
export const ProductionContextPayload = z.object({
  product: z.string().min(1).max(200),
  lot: z.string().min(1).max(200),
  order: z.string().min(1).max(200),
  timestamp: PayloadTimestamp.optional(),
});
export type ProductionContextPayload = z.infer<typeof ProductionContextPayload>;

/** A production context as ingest reports it: `scope` is the tag prefix it applies to, e.g. `packaging.line1`. */
export interface ProductionContext {
  scope: string;
  product: string;
  lot: string;
  order: string;
  time: string;
}

/** A message andon could not use, with enough to find and fix the sender. */
export interface DeadLetter {
  source: 'mqtt';
  topic: string;
  payloadExcerpt: string;
  reason: string;
  receivedAt: string;
}
