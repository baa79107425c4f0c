import type { Clock } from '../core/index.ts';
import { createAlarmStore } from './alarms.ts';
import { createApprovalStore } from './approvals.ts';
import { createAuditLog } from './audit.ts';
import { createCaseStore } from './cases.ts';
import type { Database } from './db.ts';
import { createDraftStore } from './drafts.ts';
import { createEffectivenessStore } from './effectiveness.ts';
import { createOutbox } from './outbox.ts';
import { createReadingStore } from './readings.ts';
import { createSandboxErpStore } from './sandbox-erp.ts';
import { createSlackStore } from './slack.ts';
import { createUserStore } from './users.ts';

export interface StoreOptions {
  /** Attempts before an outbox message goes to the dead-letter queue (OUTBOX_MAX_ATTEMPTS). */
  outboxMaxAttempts?: number;
}

/** Every store over one database and one clock: what andon's runtime, its commands and its tests work with. */
export function createStores(database: Database, clock: Clock, options: StoreOptions = {}) {
  return {
    cases: createCaseStore(database, clock),
    drafts: createDraftStore(database, clock),
    approvals: createApprovalStore(database, clock),
    outbox: createOutbox(
      database,
      clock,
      options.outboxMaxAttempts === undefined ? {} : { maxAttempts: options.outboxMaxAttempts },
    ),
    readings: createReadingStore(database),
    users: createUserStore(database),
    audit: createAuditLog(database, clock),
    effectivenessChecks: createEffectivenessStore(database, clock),
    sandbox: createSandboxErpStore(database),
    alarms: createAlarmStore(database, clock),
    slack: createSlackStore(database),
  };
}

export type StoreSet = ReturnType<typeof createStores>;
