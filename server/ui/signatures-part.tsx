import { type Approval, checkSignatures, type SignatureStatus } from '../../core/index.ts';
import type { StoredDraft } from '../../store/index.ts';

const STATUS_WORDS: Record<SignatureStatus, string> = {
  valid: 'Valid',
  superseded: 'Superseded by a newer version',
  invalid: 'Invalid: the signed version was altered',
};

/**
 * The signatures of a case, each with its manifestation (printed name, time, meaning; Part 11 §11.50) and whether it
 * still covers the record as stored now (§11.70, core/policy-signatures.ts `checkSignatures`): valid, superseded by a
 * newer version, or invalid because the signed version was altered. All text goes through JSX, which escapes it.
 */
export function SignatureList(props: { caseId: string; approvals: Approval[]; versions: StoredDraft[] }) {
  if (props.approvals.length === 0) return <p class="muted">None yet.</p>;
  const checks = new Map(
    checkSignatures(
      props.caseId,
      props.approvals,
      props.versions.map((stored) => stored.draft),
    ).map((check) => [check.approvalId, check]),
  );
  return (
    <>
      {props.approvals.map((approval) => {
        const check = checks.get(approval.id)!;
        return (
          <div class={`card signature ${check.status}`}>
            <p>
              <strong>{check.manifestation}</strong> on draft v{approval.draftVersion} (hash{' '}
              <code>{approval.signature.recordHash.slice(0, 12)}</code>)
              {approval.comment ? ` — “${approval.comment}”` : ''}
            </p>
            <p class="signature-check">
              <span class={`badge ${check.status}`}>{STATUS_WORDS[check.status]}</span> {check.reason}.
            </p>
          </div>
        );
      })}
    </>
  );
}
