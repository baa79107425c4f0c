import { z } from 'zod';

export const ActorKind = z.enum(['user', 'service', 'agent']);
export type ActorKind = z.infer<typeof ActorKind>;

export const Actor = z.object({ kind: ActorKind, id: z.string().min(1) });
export type Actor = z.infer<typeof Actor>;

/** One link of the hash-chained audit log. */
export const AuditEntry = z.object({
  seq: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
  actor: Actor,
  action: z.string().min(1),
  subject: z.string().min(1),
  caseId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
