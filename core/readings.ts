import { z } from 'zod';

/** A tag names one plant signal, e.g. `line1.seal_temperature`. */
export const TagId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:/-]+$/, 'a tag may hold letters, digits and _ . : / - only');
export type TagId = z.infer<typeof TagId>;

export const Quality = z.enum(['good', 'uncertain', 'bad']);
export type Quality = z.infer<typeof Quality>;

/** One sample of one tag. Bad and uncertain samples are kept but never scored as process values. */
export const Reading = z.object({
  tag: TagId,
  value: z.number(),
  sourceTime: z.iso.datetime({ offset: true }),
  serverTime: z.iso.datetime({ offset: true }).optional(),
  quality: Quality.default('good'),
  unit: z.string().max(40).optional(),
});
export type Reading = z.infer<typeof Reading>;
