import type { Hono } from 'hono';
import type { CaseChat } from '../agent/index.ts';
import { createSlackApp, loadSlackRouting, type SlackApp } from '../connectors/slack/index.ts';
import type { ApprovalPolicy, AuditPort, KnowledgePort } from '../core/index.ts';
import type { Triage } from '../graph/index.ts';
import { approverRoles, createSigningApp, decisionRefusal } from '../server/index.ts';
import {
  type ApprovalStore,
  type CaseStore,
  createSlackStore,
  type Database,
  type DraftStore,
  type Outbox,
  type ReadingStore,
  type UserStore,
} from '../store/index.ts';
import { type Config, publicUrl } from './config.ts';
import type { PipelineNotice } from './pipeline.ts';

export interface SlackWiringDeps {
  database: Database;
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
  outbox: Outbox;
  readings: ReadingStore;
  users: UserStore;
  audit: AuditPort;
  knowledge: KnowledgePort;
  triage: Triage;
  /** The read-only case chat (app/chat.ts) that mentions, DMs and case-thread replies go to. */
  chat: Pick<CaseChat, 'answer'>;
  log(line: string): void;
  /** The approval policy (APPROVAL_POLICY_FILE): who may sign, shown before a signing link is handed out. */
  policy?: ApprovalPolicy | undefined;
}

export interface SlackIntegration {
  app: SlackApp;
  /** `/slack/events` (HTTP mode) and `/slack/sign/:token` (the signing page), for `createServer`'s mounts. */
  mounts: Array<{ path: string; app: Hono }>;
  /** Connect (Socket Mode), verify the token and start posting; never blocks andon's start on Slack. */
  start(): void;
  stop(): Promise<void>;
}

/**
 * Wire the Slack connector to andon's stores, knowledge base and triage when SLACK_BOT_TOKEN is set; null otherwise.
 * Signatures from Slack go through the same `decide` as the web UI, on andon's own signing page.
 */
export async function createSlackIntegration(config: Config, deps: SlackWiringDeps): Promise<SlackIntegration | null> {
  if (!config.SLACK_BOT_TOKEN) return null;
  const slackStore = createSlackStore(deps.database);
  const reader = {
    get: (id: string) => deps.cases.get(id),
    deviations: (id: string) => deps.cases.deviations(id),
    latestDraft: (id: string) => deps.drafts.latestStored(id),
    approvals: (id: string) => deps.approvals.forCase(id),
    executions: (id: string) => deps.outbox.forCase(id),
    signal: (tag: string, from: Date, to: Date, limit: number) => deps.readings.window(tag, from, to, limit),
  };
  const app = createSlackApp({
    botToken: config.SLACK_BOT_TOKEN,
    signingSecret: config.SLACK_SIGNING_SECRET,
    appToken: config.SLACK_APP_TOKEN,
    slackApiUrl: config.SLACK_API_URL,
    publicUrl: publicUrl(config),
    store: slackStore,
    cases: reader,
    audit: deps.audit,
    chat: deps.chat,
    routing: await loadSlackRouting({ file: config.SLACK_ROUTING, defaultChannel: config.SLACK_CHANNEL }),
    approverRoles: (actionTypes: string[]) => approverRoles(actionTypes, deps.policy),
    // The same eligibility as decide(): role scopes, segregation of duties, earlier partial signatures.
    signingRefusal: (user, caseId, decision) => decisionRefusal(deps, { caseId, decision, user }),
    signingLinkTtlMinutes: config.SLACK_SIGNING_LINK_MINUTES,
    log: deps.log,
  });
  const signing = createSigningApp({ ...deps, slack: slackStore, onSigned: () => app.notifier.wake() });
  deps.log(
    `slack: ${app.mode === 'socket' ? 'Socket Mode (SLACK_APP_TOKEN)' : `HTTP at ${publicUrl(config)}/slack/events`}`,
  );
  return {
    app,
    mounts: [
      { path: '/slack/sign', app: signing },
      { path: '/slack', app: app.http },
    ],
    start() {
      app.start().catch((error: Error) => deps.log(`slack: ${error.message}`));
    },
    stop: () => app.stop(),
  };
}

/**
 * What alarm management tells Slack. New cases reach Slack from the audit log (the notifier only needs waking); a
 * flood's digest is recorded once per phase as a note on the flood case, which Slack shows in the thread of the
 * flood's one digest message. So a flood of a dozen alarms is one Slack message, not a dozen.
 *
 * @example
 * createPipeline({ ..., notify: slackAlarmNotices({ audit, notifier: slack?.app.notifier ?? null, log }) });
 */
export function slackAlarmNotices(deps: {
  audit: AuditPort;
  notifier: Pick<SlackApp['notifier'], 'wake'> | null;
  log(line: string): void;
}): (notice: PipelineNotice) => void {
  return (notice) => {
    deps.log(`alarm notice: ${JSON.stringify(notice).slice(0, 300)}`);
    const notifier = deps.notifier;
    if (!notifier) return;
    if (notice.type !== 'flood.digest' || notice.caseId === null) return notifier.wake();
    deps.audit
      .append({
        actor: { kind: 'service', id: 'alarm-management' },
        action: 'case.notified',
        subject: notice.caseId,
        caseId: notice.caseId,
        details: { kind: 'flood_digest', message: notice.text, floodId: notice.floodId, phase: notice.phase },
      })
      .then(
        () => notifier.wake(),
        (error: Error) => deps.log(`slack: flood digest of ${notice.caseId} not recorded: ${error.message}`),
      );
  };
}
