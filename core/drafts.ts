import { z } from 'zod';

/** A pointer into the knowledge base precise enough to show the quoted sentence. */
export const Citation = z.object({
  chunkId: z.string().min(1),
  documentId: z.string().min(1),
  title: z.string(),
  revision: z.string().optional(),
  section: z.string().optional(),
  quote: z.string().max(2000),
  start: z.number().int().nonnegative().optional(),
  end: z.number().int().nonnegative().optional(),
});
export type Citation = z.infer<typeof Citation>;

export const Hypothesis = z.object({
  statement: z.string().min(1).max(2000),
  category: z.string().min(1).max(200),
  confidence: z.number().min(0).max(1),
  evidenceFor: z.array(z.string().max(1000)).max(20),
  evidenceAgainst: z.array(z.string().max(1000)).max(20),
  citations: z.array(Citation).max(20),
});
export type Hypothesis = z.infer<typeof Hypothesis>;

export const CapaItem = z.object({
  text: z.string().min(1).max(4000),
  owner: z.string().max(200).nullable(),
  due: z.iso.date().nullable(),
  citations: z.array(Citation).max(10).default([]),
});
export type CapaItem = z.infer<typeof CapaItem>;

/** A CAPA plan in 8D shape. */
export const CapaPlan = z.object({
  team: z.array(z.string().max(200)).max(20),
  problem: z.string().min(1).max(4000),
  containment: z.array(CapaItem).max(20),
  rootCause: z.array(CapaItem).max(20),
  corrective: z.array(CapaItem).max(20),
  preventive: z.array(CapaItem).max(20),
  effectiveness: z.array(CapaItem).max(20),
});
export type CapaPlan = z.infer<typeof CapaPlan>;

/** The 8D sections of a CAPA plan, D1 to D7, in order (D8, closure, is the signature). */
export const CAPA_SECTIONS = [
  'team',
  'problem',
  'containment',
  'rootCause',
  'corrective',
  'preventive',
  'effectiveness',
] as const satisfies readonly (keyof CapaPlan)[];
export type CapaSection = (typeof CAPA_SECTIONS)[number];

/** The names a quality lead reads for each section of the plan. */
export const CAPA_SECTION_LABELS: Record<CapaSection, string> = {
  team: 'Team',
  problem: 'Problem description',
  containment: 'Containment',
  rootCause: 'Root cause',
  corrective: 'Corrective actions',
  preventive: 'Preventive actions',
  effectiveness: 'Verification of effectiveness',
};

export const RiskLevel = z.enum(['low', 'medium', 'high']);
export type RiskLevel = z.infer<typeof RiskLevel>;

export const ActionType = z.enum([
  'lot_hold',
  'lot_release',
  'production_order_status',
  'maintenance_work_order',
  'ncr_create',
  'capa_create',
  'capa_update',
  'supplier_car',
  'customer_notice',
  'webhook',
]);
export type ActionType = z.infer<typeof ActionType>;

/** A typed action the agent proposes. Plain data: only the approval gate turns it into work. */
export const ActionProposal = z.object({
  id: z.string().min(1),
  type: ActionType,
  params: z.record(z.string(), z.unknown()),
  risk: RiskLevel,
  reason: z.string().max(2000),
  preview: z.string().max(8000),
  idempotencyKey: z.string().min(8).max(200),
});
export type ActionProposal = z.infer<typeof ActionProposal>;

/** Who wrote a draft. An offline draft is labelled as such wherever a user sees it. */
export const DraftSource = z.enum(['offline', 'llm', 'human']);
export type DraftSource = z.infer<typeof DraftSource>;

export const Draft = z.object({
  version: z.number().int().positive(),
  source: DraftSource,
  model: z.string(),
  author: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  summary: z.string().max(4000),
  hypotheses: z.array(Hypothesis).max(10),
  capa: CapaPlan,
  actions: z.array(ActionProposal).max(10),
  flags: z.array(z.string().max(500)).max(50).default([]),
  /** Language-model usage for this version (absent for offline and human drafts). */
  usage: z
    .object({
      calls: z.number().int().nonnegative(),
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      costUsd: z.number().nonnegative().nullable(),
    })
    .optional(),
  /** Versions of the prompts that produced it. */
  promptVersion: z.string().max(100).optional(),
});
export type Draft = z.infer<typeof Draft>;
