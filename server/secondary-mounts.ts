import type { Hono } from 'hono';
import type { AuditEntry, AuditPort } from '../core/index.ts';
import type { EvalRunStore } from '../eval/index.ts';
import type { KnowledgeBase } from '../knowledge/index.ts';
import type {
  AlarmStore,
  AuditSearch,
  AuditVerification,
  CaseStore,
  DraftStore,
  ReadingStore,
  RootCauseStore,
  UserStore,
} from '../store/index.ts';
import { createCloseOutApp } from './close-out.tsx';
import { createEvalsApi } from './evals-api.ts';
import { createKnowledgeApi, type KnowledgeApiDeps } from './kb-api.ts';
import { createAlarmsPage } from './pages/alarms.tsx';
import { createAuditPages } from './pages/audit.tsx';
import { createEvalPages } from './pages/evals.tsx';
import { createKnowledgePages } from './pages/kb.tsx';

export interface SecondaryPagesDeps {
  knowledge: KnowledgeBase;
  users: UserStore;
  audit: Pick<AuditPort, 'append'> & {
    search(filters: AuditSearch): Promise<AuditEntry[]>;
    verify(): Promise<AuditVerification>;
  };
  alarms: Pick<AlarmStore, 'report' | 'activations' | 'recordDisposition' | 'list'>;
  readings: Pick<ReadingStore, 'window'>;
  evalRuns: Pick<EvalRunStore, 'list' | 'get'>;
  cases: Pick<CaseStore, 'get'>;
  drafts: Pick<DraftStore, 'latestStored'>;
  rootCauses: RootCauseStore;
  /** The closed list of root-cause categories a person confirms at close-out. */
  taxonomy: readonly string[];
  /** The approval policy engine: removing an SOP becomes an `sop_retire` change under the policy. */
  governance?: KnowledgeApiDeps['governance'];
}

/**
 * The knowledge, alarms, evals, audit and case close-out pages and their REST APIs, as mounts for `createServer` (each authenticates
 * its own paths).
 *
 * @example
 * createServer({ ...deps, mounts: [...secondaryPageMounts({ ...stores, knowledge, evalRuns })] });
 */
// biome-ignore lint/suspicious/noExplicitAny: sub-apps bring their own context variables
export function secondaryPageMounts(deps: SecondaryPagesDeps): Array<{ path: string; app: Hono<any> }> {
  return [
    createKnowledgeApi(deps),
    createKnowledgePages(deps),
    createEvalsApi({ runs: deps.evalRuns, users: deps.users }),
    createEvalPages({ runs: deps.evalRuns, users: deps.users }),
    createAlarmsPage(deps),
    createAuditPages(deps),
    createCloseOutApp(deps),
  ].map((app) => ({ path: '/', app }));
}
