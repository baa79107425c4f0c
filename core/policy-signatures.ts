import type { Approval } from './approvals.ts';
import { recordHash } from './canonical-json.ts';
import type { Draft } from './drafts.ts';

/**
 * Signature/record linking (Part 11 §11.70): a signature holds the SHA-256 of the canonical JSON of exactly the
 * record version signed. It stands only for that version: once the record changes (a newer version, or the stored
 * version itself altered) it no longer signs what is there.
 */
export type SignatureStatus =
  /** The signed version is the current one and still hashes to the signed hash. */
  | 'valid'
  /** The record changed after signing: a newer version exists; the signature covers only its own version. */
  | 'superseded'
  /** The stored version no longer hashes to the signed hash: it was altered after signing. */
  | 'invalid';

export interface SignatureCheck {
  approvalId: string;
  draftVersion: number;
  status: SignatureStatus;
  reason: string;
  /** The manifestation shown with the record (Part 11 §11.50): printed name, time, meaning. */
  manifestation: string;
}

/** The printed manifestation of a signature: `Approved by Quinn Quality at 2026-01-01 10:00:00 UTC`. */
export function manifestation(approval: Pick<Approval, 'signature'>): string {
  const { meaning, printedName, signedAt } = approval.signature;
  return `${meaning[0]!.toUpperCase()}${meaning.slice(1)} by ${printedName} at ${signedAt.replace('T', ' ').slice(0, 19)} UTC`;
}

/**
 * Check each signature of a case against the versions stored now.
 *
 * @example
 * checkSignatures('CASE-1', approvals, (await drafts.versions('CASE-1')).map((stored) => stored.draft))
 */
export function checkSignatures(caseId: string, approvals: Approval[], versions: Draft[]): SignatureCheck[] {
  const latest = Math.max(0, ...versions.map((draft) => draft.version));
  return approvals.map((approval) => {
    const signed = versions.find((draft) => draft.version === approval.draftVersion);
    const base = {
      approvalId: approval.id,
      draftVersion: approval.draftVersion,
      manifestation: manifestation(approval),
    };
    if (!signed) return { ...base, status: 'invalid', reason: `draft v${approval.draftVersion} is missing` };
    const now = recordHash({ caseId, draft: signed });
    if (now !== approval.signature.recordHash)
      return {
        ...base,
        status: 'invalid',
        reason: `draft v${approval.draftVersion} was changed after signing (hash ${now.slice(0, 12)}… ≠ signed ${approval.signature.recordHash.slice(0, 12)}…)`,
      };
    if (approval.draftVersion < latest)
      return {
        ...base,
        status: 'superseded',
        reason: `signs v${approval.draftVersion} only; the record is now v${latest}, which this signature does not cover`,
      };
    return { ...base, status: 'valid', reason: `signs v${approval.draftVersion}, the current version, unchanged` };
  });
}
