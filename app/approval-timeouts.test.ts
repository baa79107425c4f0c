import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOfflineDrafter } from '../agent/index.ts';
import { createTriage } from '../graph/index.ts';
import { createKnowledgeBase, createOfflineEmbedder } from '../knowledge/index.ts';
import { draftRequirement } from '../server/index.ts';
import { loadApprovalPolicy } from './approval-policy.ts';
import { startApprovalTimeouts } from './approval-timeouts.ts';
import { loadConfig } from './config.ts';
import { openStores, type Stores } from './runtime.ts';

describe('approval timeouts', () => {
  let stores: Stores;
  beforeAll(async () => {
    stores = await openStores(loadConfig({ ANDON_DATA_DIR: 'memory://timeouts' }));
  });
  afterAll(async () => {
    await stores.database.close();
  });

  it('expire a request that waited too long into an escalation, and leave fresh ones alone', async () => {
    const checkpointer = new PostgresSaver(stores.database.pool);
    await checkpointer.setup();
    const triage = createTriage(
      {
        ...stores,
        knowledge: createKnowledgeBase(stores.database, createOfflineEmbedder()),
        signals: stores.readings,
        drafter: createOfflineDrafter(),
        clock: { now: () => new Date() },
        escalationRoles: ['quality_lead'],
      },
      checkpointer,
    );
    const item = await stores.cases.create({
      title: 'Seal strength below spec on line 2',
      description: 'Seal strength low',
    });
    await triage.start(item.id);
    let clock = Date.now();
    const timeouts = startApprovalTimeouts({
      ...stores,
      triage,
      timeoutMs: 3_600_000,
      intervalMs: 3_600_000,
      now: () => new Date(clock),
      log: () => {},
    });
    try {
      expect(await timeouts.sweep()).toBe(0);
      clock += 2 * 3_600_000;
      expect(await timeouts.sweep()).toBe(1);
      const escalated = (await stores.audit.listForCase(item.id)).filter(
        (entry) => entry.action === 'approval.escalated',
      );
      expect(escalated).toHaveLength(1);
      expect(await triage.status(item.id)).toMatchObject({ waitingForDecision: true });
      clock = Date.now();
      expect(await timeouts.sweep()).toBe(0);
      clock = Date.now() + 2 * 3_600_000;
      expect(await timeouts.sweep()).toBe(1);
      expect((await stores.cases.get(item.id))?.status).toBe('escalated');
      expect(await stores.approvals.forCase(item.id)).toEqual([]);
    } finally {
      timeouts.stop();
    }
  });

  it('uses the approval policy expiry of the draft when one is given', async () => {
    const checkpointer = new PostgresSaver(stores.database.pool);
    const triage = createTriage(
      {
        ...stores,
        knowledge: createKnowledgeBase(stores.database, createOfflineEmbedder()),
        signals: stores.readings,
        drafter: createOfflineDrafter(),
        clock: { now: () => new Date() },
        escalationRoles: ['quality_lead'],
      },
      checkpointer,
    );
    const item = await stores.cases.create({ title: 'Seal strength low on line 3', description: 'Seal strength low' });
    await triage.start(item.id);
    const policy = loadApprovalPolicy();
    const timeouts = startApprovalTimeouts({
      ...stores,
      triage,
      timeoutMs: 100 * 3_600_000,
      timeoutFor: async (caseId) => {
        const stored = await stores.drafts.latestStored(caseId);
        return stored ? draftRequirement(policy, stored.draft).expiresAfterHours * 3_600_000 : null;
      },
      intervalMs: 3_600_000,
      now: () => new Date(Date.now() + 30 * 3_600_000),
      log: () => {},
    });
    try {
      // The shipped policy expires these requests after 24 h or less, well before the 100 h default.
      expect(await timeouts.sweep()).toBe(1);
    } finally {
      timeouts.stop();
    }
  });
});
