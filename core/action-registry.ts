import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical-json.ts';
import type { ActionProposal, ActionType, RiskLevel } from './drafts.ts';

const text = (max: number) => z.string().trim().min(1).max(max);

/** Parameters of each typed action. The agent fills them; the approval gate shows them; connectors send them. */
export const ActionParams = {
  lot_hold: z.object({
    lot: text(100),
    reason: text(1000),
    product: text(200).optional(),
    quantity: z.number().positive().optional(),
  }),
  lot_release: z.object({ lot: text(100), reason: text(1000) }),
  production_order_status: z.object({
    order: text(100),
    status: z.enum(['hold', 'resume', 'cancel']),
    reason: text(1000),
  }),
  maintenance_work_order: z.object({
    asset: text(200),
    description: text(2000),
    priority: z.enum(['low', 'medium', 'high', 'emergency']),
  }),
  ncr_create: z.object({ title: text(300), description: text(4000), lot: text(100).optional() }),
  capa_create: z.object({ title: text(300), problem: text(4000) }),
  capa_update: z.object({ capaId: text(100), status: text(100), note: text(4000) }),
  supplier_car: z.object({ supplier: text(200), material: text(200), description: text(4000) }),
  customer_notice: z.object({ customer: text(200), subject: text(300), body: text(8000) }),
  webhook: z.object({ event: text(100), payload: z.record(z.string(), z.unknown()) }),
} satisfies Record<ActionType, z.ZodType>;

export interface ActionDefinition {
  type: ActionType;
  title: string;
  risk: RiskLevel;
  /** Roles allowed to approve by default (the governance policy file may narrow this). */
  approvers: string[];
}

export const actionDefinitions: Record<ActionType, ActionDefinition> = {
  lot_hold: { type: 'lot_hold', title: 'Lot hold', risk: 'medium', approvers: ['quality_lead', 'supervisor'] },
  lot_release: { type: 'lot_release', title: 'Lot release', risk: 'high', approvers: ['quality_lead'] },
  production_order_status: {
    type: 'production_order_status',
    title: 'Production order status',
    risk: 'medium',
    approvers: ['supervisor', 'quality_lead'],
  },
  maintenance_work_order: {
    type: 'maintenance_work_order',
    title: 'Maintenance work order',
    risk: 'low',
    approvers: ['supervisor', 'maintenance', 'quality_lead'],
  },
  ncr_create: { type: 'ncr_create', title: 'Nonconformance report', risk: 'low', approvers: ['quality_lead'] },
  capa_create: { type: 'capa_create', title: 'CAPA', risk: 'low', approvers: ['quality_lead'] },
  capa_update: { type: 'capa_update', title: 'CAPA update', risk: 'low', approvers: ['quality_lead'] },
  supplier_car: {
    type: 'supplier_car',
    title: 'Supplier corrective action request',
    risk: 'medium',
    approvers: ['quality_lead'],
  },
  customer_notice: {
    type: 'customer_notice',
    title: 'Customer notification',
    risk: 'high',
    approvers: ['quality_lead'],
  },
  webhook: { type: 'webhook', title: 'Webhook', risk: 'low', approvers: ['admin', 'quality_lead'] },
};

/**
 * Build a typed, validated action proposal with its dry-run preview and an idempotency key derived from the case and
 * the parameters, so proposing the same action twice can never cause two effects.
 */
export function proposeAction(
  caseId: string,
  type: ActionType,
  params: Record<string, unknown>,
  reason: string,
): ActionProposal {
  const parsed = ActionParams[type].parse(params) as Record<string, unknown>;
  const definition = actionDefinitions[type];
  const key = sha256Hex(canonicalJson({ caseId, type, params: parsed })).slice(0, 32);
  return {
    id: `${type}-${key.slice(0, 8)}`,
    type,
    params: parsed,
    risk: definition.risk,
    reason,
    preview: `${definition.title} (${type}, risk ${definition.risk}) would be sent with:\n${JSON.stringify(parsed, null, 2)}`,
    idempotencyKey: `andon-${caseId}-${key}`,
  };
}

/**
 * The idempotency key of an action: derived from the case, the type and the parameters, so the same approved action
 * always carries the same key and a changed payload always carries a new one (and so needs a new approval).
 */
export function actionIdempotencyKey(caseId: string, type: ActionType, params: Record<string, unknown>): string {
  const key = sha256Hex(canonicalJson({ caseId, type, params })).slice(0, 32);
  return `andon-${caseId}-${key}`;
}

/** An action that undoes (or counters) the effect of another. It is itself a proposal and needs its own approval. */
export interface ActionCompensation {
  type: ActionType;
  params: Record<string, unknown>;
  reason: string;
}

/** Where compensation is meaningful, what it is; `null` means the effect cannot be undone by andon (say so). */
export const compensationNotes: Record<ActionType, string> = {
  lot_hold: 'a lot release of the same lot',
  lot_release: 'a lot hold of the same lot',
  production_order_status: 'the opposite status (hold ↔ resume); a cancellation cannot be undone',
  maintenance_work_order: 'none: close or reject the work order in the maintenance system',
  ncr_create: 'none: void the NCR in the QMS',
  capa_create: 'a CAPA update that cancels the created CAPA (needs its external id)',
  capa_update: 'none: post another update',
  supplier_car: 'none: withdraw the request with the supplier',
  customer_notice: 'none: a sent notice cannot be recalled; send a correction, which needs its own approval',
  webhook: 'none: the receiver decides',
};

/**
 * The compensating action for an executed one, or `null` where none exists. `externalId` is the id the target system
 * gave the original effect (needed to cancel a created record).
 *
 * @example compensationFor('lot_hold', { lot: 'L-7', reason: 'seal drift' })
 *   // → { type: 'lot_release', params: { lot: 'L-7', reason: 'Compensates the hold: seal drift' }, ... }
 */
export function compensationFor(
  type: ActionType,
  params: Record<string, unknown>,
  externalId?: string | null,
): ActionCompensation | null {
  const reason = typeof params.reason === 'string' ? params.reason : '';
  switch (type) {
    case 'lot_hold': {
      const { lot } = ActionParams.lot_hold.parse(params);
      return {
        type: 'lot_release',
        params: { lot, reason: `Compensates the hold: ${reason}`.slice(0, 1000) },
        reason: `Undo the hold of lot ${lot}`,
      };
    }
    case 'lot_release': {
      const { lot } = ActionParams.lot_release.parse(params);
      return {
        type: 'lot_hold',
        params: { lot, reason: `Compensates the release: ${reason}`.slice(0, 1000) },
        reason: `Put lot ${lot} back on hold`,
      };
    }
    case 'production_order_status': {
      const parsed = ActionParams.production_order_status.parse(params);
      if (parsed.status === 'cancel') return null;
      const status = parsed.status === 'hold' ? 'resume' : 'hold';
      return {
        type,
        params: { order: parsed.order, status, reason: `Compensates ${parsed.status}: ${reason}`.slice(0, 1000) },
        reason: `Set production order ${parsed.order} to ${status}`,
      };
    }
    case 'capa_create': {
      if (!externalId) return null;
      return {
        type: 'capa_update',
        params: { capaId: externalId, status: 'cancelled', note: 'Created in error; cancelled by compensation.' },
        reason: `Cancel CAPA ${externalId}`,
      };
    }
    default:
      return null;
  }
}

/** One line per parameter, in a stable order: the dry-run preview a signer reads before approving. */
export function describeActionParams(type: ActionType, params: Record<string, unknown>): string[] {
  const parsed = ActionParams[type].parse(params) as Record<string, unknown>;
  return Object.keys(parsed)
    .sort()
    .map((key) => `${key}: ${typeof parsed[key] === 'string' ? parsed[key] : JSON.stringify(parsed[key])}`);
}
