import {
  type ActionExecution,
  AndonError,
  type Approval,
  type Clock,
  type Decision,
  type Draft,
  type PolicySubject,
  type SignatureMeaning,
} from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './db.ts';
import { newId } from './ids.ts';
import { type ExecutionRow, toExecution } from './outbox.ts';
import type { User } from './users.ts';

export interface DecisionInput {
  caseId: string;
  draft: Draft;
  recordHash: string;
  signer: User;
  decision: Decision;
  comment: string;
  /** How the signer re-authenticated for this signature (Part 11 §11.200). */
  reauthenticatedWith: 'password' | 'sso';
  /**
   * Whether this signature completes the decision (default true). Under a two-person rule the first approval is
   * kept with meaning `reviewed`: no outbox rows, the case keeps waiting for the next person.
   */
  complete?: boolean;
  /** The person behind the signer's account: one person signs a version once, whatever account they use. */
  personKey?: string;
  /** The approval policy's view, kept in the audit entry. */
  policy?: { rules: string[]; approvals: number; signed: number };
}

export interface RecordedDecision {
  approval: Approval;
  executions: ActionExecution[];
}

/**
 * Record a signed decision. Approving writes the outbox rows for the draft's actions in the same transaction,
 * so an action exists to be sent exactly when its approval does.
 */
export function createApprovalStore(database: Database, clock: Clock) {
  return {
    async record(input: DecisionInput): Promise<RecordedDecision> {
      const complete = input.complete ?? true;
      const meaning: SignatureMeaning = input.decision === 'reject' ? 'rejected' : complete ? 'approved' : 'reviewed';
      return database.transaction(async (client) => {
        const current = await client.query<{ version: number; record_hash: string }>(
          'select version, record_hash from drafts where case_id = $1 order by version desc limit 1 for update',
          [input.caseId],
        );
        const latest = current.rows[0];
        if (!latest || latest.version !== input.draft.version || latest.record_hash !== input.recordHash) {
          throw new AndonError(
            'conflict',
            `Draft v${input.draft.version} of ${input.caseId} is no longer the current version; reload the case and sign the current one.`,
          );
        }
        const decided = await client.query<{ signer_id: string; person_key: string | null; meaning: string }>(
          'select signer_id, person_key, meaning from approvals where case_id = $1 and draft_version = $2',
          [input.caseId, input.draft.version],
        );
        if (
          decided.rows.some(
            (row) =>
              row.signer_id === input.signer.id ||
              (input.personKey !== undefined && row.person_key === input.personKey),
          )
        ) {
          throw new AndonError(
            'conflict',
            `You signed draft v${input.draft.version} of ${input.caseId} already; it needs a different person now.`,
          );
        }
        if (decided.rows.some((row) => row.meaning !== 'reviewed')) {
          throw new AndonError(
            'conflict',
            `Draft v${input.draft.version} of ${input.caseId} has been decided already.`,
          );
        }
        const now = clock.now();
        const approval: Approval = {
          id: newId('APR', now),
          caseId: input.caseId,
          draftVersion: input.draft.version,
          decision: input.decision,
          comment: input.comment,
          signature: {
            signerId: input.signer.id,
            printedName: input.signer.displayName,
            signedAt: now.toISOString(),
            meaning,
            recordHash: input.recordHash,
          },
        };
        await client.query(
          `insert into approvals (id, case_id, draft_version, decision, comment, signer_id, printed_name, signed_at, meaning,
             record_hash, person_key, reauthenticated_with)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            approval.id,
            approval.caseId,
            approval.draftVersion,
            approval.decision,
            approval.comment,
            approval.signature.signerId,
            approval.signature.printedName,
            approval.signature.signedAt,
            approval.signature.meaning,
            approval.signature.recordHash,
            input.personKey ?? null,
            input.reauthenticatedWith,
          ],
        );
        await appendAudit(client, clock, {
          actor: { kind: 'user', id: input.signer.id },
          action: input.decision === 'reject' ? 'rejection.signed' : complete ? 'approval.signed' : 'approval.partial',
          subject: `${input.caseId}#v${input.draft.version}`,
          caseId: input.caseId,
          details: {
            approvalId: approval.id,
            signature: approval.signature,
            comment: input.comment,
            reauthenticatedWith: input.reauthenticatedWith,
            ...(input.policy ? { policy: input.policy } : {}),
          },
        });
        const executions: ActionExecution[] = [];
        if (!complete) return { approval, executions };
        if (input.decision === 'approve') {
          for (const action of input.draft.actions) {
            const inserted = await client.query<ExecutionRow>(
              `insert into action_executions (id, case_id, approval_id, proposal_id, type, params, idempotency_key, status)
               values ($1, $2, $3, $4, $5, $6, $7, 'pending') on conflict (idempotency_key) do nothing returning *`,
              [
                newId('ACT', now),
                input.caseId,
                approval.id,
                action.id,
                action.type,
                JSON.stringify(action.params),
                action.idempotencyKey,
              ],
            );
            const row = inserted.rows[0];
            if (!row) continue;
            executions.push(toExecution(row));
            await appendAudit(client, clock, {
              actor: { kind: 'service', id: 'outbox' },
              action: 'action.queued',
              subject: row.id,
              caseId: input.caseId,
              details: { type: action.type, idempotencyKey: action.idempotencyKey, approvalId: approval.id },
            });
          }
        }
        await client.query('update cases set status = $2, updated_at = $3 where id = $1', [
          input.caseId,
          input.decision === 'approve' ? 'approved' : 'rejected',
          now,
        ]);
        return { approval, executions };
      });
    },

    async forCase(caseId: string): Promise<Approval[]> {
      const result = await database.query<{
        id: string;
        case_id: string;
        draft_version: number;
        decision: Decision;
        comment: string;
        signer_id: string;
        printed_name: string;
        signed_at: Date;
        meaning: SignatureMeaning;
        record_hash: string;
      }>('select * from approvals where case_id = $1 order by signed_at', [caseId]);
      return result.rows.map((row) => ({
        id: row.id,
        caseId: row.case_id,
        draftVersion: row.draft_version,
        decision: row.decision,
        comment: row.comment,
        signature: {
          signerId: row.signer_id,
          printedName: row.printed_name,
          signedAt: row.signed_at.toISOString(),
          meaning: row.meaning,
          recordHash: row.record_hash,
        },
      }));
    },
  };
}

export type ApprovalStore = ReturnType<typeof createApprovalStore>;

export interface PolicySignoff {
  signerId: string;
  person: string;
  decision: 'approve' | 'reject';
  comment: string;
  signedAt: string;
}

/**
 * Sign-offs of governed changes under the approval policy (alarm shelving, detector limits, SOP retirement): one
 * per person and change, each audited. core/policy.ts decides whether they suffice.
 */
export function createPolicySignoffStore(database: Database, clock: Clock) {
  return {
    async list(subject: Exclude<PolicySubject, 'action'>, subjectId: string): Promise<PolicySignoff[]> {
      const result = await database.query<{
        signer_id: string;
        person_key: string;
        decision: 'approve' | 'reject';
        comment: string;
        signed_at: Date;
      }>('select * from policy_signoffs where subject = $1 and subject_id = $2 order by signed_at', [
        subject,
        subjectId,
      ]);
      return result.rows.map((row) => ({
        signerId: row.signer_id,
        person: row.person_key,
        decision: row.decision,
        comment: row.comment,
        signedAt: row.signed_at.toISOString(),
      }));
    },

    /** Record one person's sign-off; a second one by the same person is ignored (returns false). */
    async add(input: {
      subject: Exclude<PolicySubject, 'action'>;
      subjectId: string;
      signerId: string;
      person: string;
      decision: 'approve' | 'reject';
      comment?: string;
      complete: boolean;
    }): Promise<boolean> {
      return database.transaction(async (client) => {
        const inserted = await client.query(
          `insert into policy_signoffs (subject, subject_id, signer_id, person_key, decision, comment, signed_at)
           values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
          [
            input.subject,
            input.subjectId,
            input.signerId,
            input.person,
            input.decision,
            input.comment ?? '',
            clock.now(),
          ],
        );
        if ((inserted.rowCount ?? 0) === 0) return false;
        await appendAudit(client, clock, {
          actor: { kind: 'user', id: input.signerId },
          action: `policy.${input.decision === 'reject' ? 'rejected' : input.complete ? 'approved' : 'reviewed'}`,
          subject: `${input.subject}:${input.subjectId}`,
          details: { subject: input.subject, subjectId: input.subjectId, comment: input.comment ?? '' },
        });
        return true;
      });
    },
  };
}

export type PolicySignoffStore = ReturnType<typeof createPolicySignoffStore>;
