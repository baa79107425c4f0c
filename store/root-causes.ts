import { AndonError, type Clock } from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './db.ts';
import type { Role, User } from './users.ts';

/** The root-cause category a person confirmed for a case. */
export interface ConfirmedRootCause {
  caseId: string;
  category: string;
  comment: string;
  confirmedBy: string;
  confirmedAt: string;
}

/** Roles that confirm a case's root cause at close-out. */
export const rootCauseRoles: readonly Role[] = ['quality_lead', 'engineer', 'supervisor'];

/**
 * Confirmed root causes (migration 0060): recorded on the case at close-out, audited in the same transaction.
 *
 * @example
 * await rootCauses.confirm({ caseId, category: 'Machine (equipment wear or failure)', comment: 'worn jaw', user, allowed });
 */
export function createRootCauseStore(database: Database, clock: Clock) {
  return {
    /**
     * Record the confirmed category. `allowed` is the closed list of categories (the taxonomy); anything else is
     * refused with the list, so labels stay comparable across cases.
     */
    async confirm(input: {
      caseId: string;
      category: string;
      comment?: string;
      user: User;
      allowed: readonly string[];
    }): Promise<ConfirmedRootCause> {
      if (input.user.kind !== 'human' || !input.user.roles.some((role) => rootCauseRoles.includes(role)))
        throw new AndonError(
          'forbidden',
          `Only a person with the role ${rootCauseRoles.join(', ').replaceAll('_', ' ')} confirms a root cause.`,
        );
      if (!input.allowed.includes(input.category))
        throw new AndonError(
          'bad_request',
          `"${input.category.slice(0, 200)}" is not a root-cause category. Choose one of: ${input.allowed.join('; ')}.`,
        );
      const at = clock.now();
      const comment = input.comment ?? '';
      await database.transaction(async (client) => {
        const updated = await client.query(
          `update cases set root_cause_category = $2, root_cause_comment = $3, root_cause_confirmed_by = $4,
             root_cause_confirmed_at = $5 where id = $1`,
          [input.caseId, input.category, comment, input.user.id, at],
        );
        if (updated.rowCount === 0) throw new AndonError('not_found', `Case ${input.caseId} does not exist.`);
        await appendAudit(client, clock, {
          actor: { kind: 'user', id: input.user.id },
          action: 'case.root_cause_confirmed',
          subject: input.caseId,
          caseId: input.caseId,
          details: { category: input.category, comment },
        });
      });
      return {
        caseId: input.caseId,
        category: input.category,
        comment,
        confirmedBy: input.user.id,
        confirmedAt: at.toISOString(),
      };
    },

    /** The confirmed root cause of a case, or null when nobody has confirmed one. */
    async get(caseId: string): Promise<ConfirmedRootCause | null> {
      const result = await database.query<{
        root_cause_category: string | null;
        root_cause_comment: string | null;
        root_cause_confirmed_by: string | null;
        root_cause_confirmed_at: Date | null;
      }>(
        'select root_cause_category, root_cause_comment, root_cause_confirmed_by, root_cause_confirmed_at from cases where id = $1',
        [caseId],
      );
      const row = result.rows[0];
      if (!row?.root_cause_category) return null;
      return {
        caseId,
        category: row.root_cause_category,
        comment: row.root_cause_comment ?? '',
        confirmedBy: row.root_cause_confirmed_by ?? '',
        confirmedAt: row.root_cause_confirmed_at?.toISOString() ?? '',
      };
    },
  };
}

export type RootCauseStore = ReturnType<typeof createRootCauseStore>;
