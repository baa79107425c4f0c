import type { Approval, Case, Deviation, Draft } from '../../../core/index.ts';
import type { CaseSnapshot } from '../blocks.ts';

/** A fixed case, as the demo produces one, for the Block Kit JSON in docs/slack.md. */
export const sampleCase: Case = {
  id: 'CASE-20261125-7f3a9c',
  title: 'packaging.line1.seal_temperature: EWMA above the upper control limit',
  description: '',
  status: 'awaiting_approval',
  severity: 'high',
  area: 'packaging',
  tags: ['packaging.line1.seal_temperature'],
  context: { line: 'packaging.line1', product: 'Granola bar 40 g', lot: 'L-2026-1125-03', order: 'PO-88412' },
  deviationIds: ['dev-1'],
  threadId: 'case:CASE-20261125-7f3a9c',
  createdAt: '2026-11-25T09:14:05.000Z',
  updatedAt: '2026-11-25T09:14:20.000Z',
};

export const sampleDeviation: Deviation = {
  id: 'dev-1',
  tag: 'packaging.line1.seal_temperature',
  detector: 'ewma',
  rule: 'limit',
  severity: 'high',
  detectedAt: '2026-11-25T09:14:03.000Z',
  value: 183.4,
  statistic: 182.6,
  limits: { lower: 178.2, center: 180, upper: 181.8 },
  message: 'EWMA above the upper control limit',
  window: [],
  contributions: [],
  area: 'packaging',
};

const sop = {
  chunkId: 'SOP-PKG-014#3',
  documentId: 'SOP-PKG-014',
  title: 'SOP-PKG-014 Heat sealer operation',
  revision: 'C',
  section: '§ 3 Troubleshooting',
  quote:
    'Seal temperature drifting high: compare the thermocouple with a reference probe; replace it if they differ by more than 2 °C.',
};

export const sampleDraft: Draft = {
  version: 1,
  source: 'offline',
  model: 'offline-drafter',
  author: 'agent:offline-drafter',
  createdAt: '2026-11-25T09:14:18.000Z',
  summary: 'Seal temperature on packaging line 1 drifts upward; the EWMA left its control limits at 09:14.',
  hypotheses: [
    {
      statement: 'The heat sealer thermocouple is drifting, so the controller overheats the jaws.',
      category: 'Sensor drift',
      confidence: 0.62,
      evidenceFor: ['slow monotonic rise'],
      evidenceAgainst: [],
      citations: [sop],
    },
    {
      statement: 'The jaw heater setpoint was changed at the last changeover.',
      category: 'Setpoint change',
      confidence: 0.21,
      evidenceFor: [],
      evidenceAgainst: ['no recorded change'],
      citations: [],
    },
  ],
  capa: {
    team: ['Quality lead', 'Maintenance'],
    problem: 'Seal temperature above limits on line 1.',
    containment: [],
    rootCause: [],
    corrective: [],
    preventive: [],
    effectiveness: [],
  },
  actions: [
    {
      id: 'act-1',
      type: 'lot_hold',
      params: { lot: 'L-2026-1125-03', reason: 'Seal temperature above limits' },
      risk: 'medium',
      reason: 'Product sealed above the limit may leak; hold it until checked.',
      preview: 'POST /lots/L-2026-1125-03/hold\n{"reason":"Seal temperature above limits"}',
      idempotencyKey: 'lot_hold:CASE-20261125-7f3a9c:5d41402a',
    },
  ],
  flags: ['Offline drafter: no language model configured'],
};

export const sampleHash = '3f2a9c1be0d4c6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70819';

export const sampleApproval: Approval = {
  id: 'APR-20261125-1a2b3c',
  caseId: sampleCase.id,
  draftVersion: 1,
  decision: 'approve',
  comment: 'Hold the lot; maintenance checks the thermocouple.',
  signature: {
    signerId: 'USR-1',
    printedName: 'Quinn Quality',
    signedAt: '2026-11-25T09:21:40.000Z',
    meaning: 'approved',
    recordHash: sampleHash,
  },
};

export const sampleSnapshot: CaseSnapshot = {
  case: sampleCase,
  deviations: [sampleDeviation],
  draft: { draft: sampleDraft, recordHash: sampleHash },
  approvals: [],
  executions: [],
  url: `https://andon.example.com/cases/${sampleCase.id}`,
  chartFileId: 'F0CHART1234',
};
