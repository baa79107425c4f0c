import { type ActionType, actionDefinitions } from '../../core/index.ts';
import { type CaseSnapshot, caseMessage, type DigestLine, digestMessage, hashPrefix, threadMessage } from './blocks.ts';
import { renderControlChart } from './chart.ts';
import type { SlackAuditEvent, SlackAuditPort, SlackCaseMessage, SlackCaseReader, SlackStorePort } from './ports.ts';
import { routeCase, type SlackRouting } from './routing.ts';
import { SlackCallError, type SlackSender } from './sender.ts';

export interface SlackNotifierDeps {
  store: SlackStorePort;
  cases: SlackCaseReader;
  audit: SlackAuditPort;
  sender: SlackSender;
  routing: SlackRouting;
  publicUrl: string;
  /** How often the audit log is read for new events (default 1000 ms); `wake()` reads at once. */
  pollMs?: number;
  /** Attach the control chart PNG (default true). */
  charts?: boolean;
  log(line: string): void;
}

const CURSOR = 'slack-notifier';

/** Events that change what a case's own message shows. */
const refreshing = new Set([
  'case.opened',
  'draft.created',
  'approval.requested',
  'approval.signed',
  'rejection.signed',
  'action.executed',
  'action.dead_lettered',
  'case.closed',
  'case.escalated',
  'case.status_changed',
]);

const title = (type: unknown) =>
  typeof type === 'string' && type in actionDefinitions ? actionDefinitions[type as ActionType].title : String(type);
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The thread line an audit event becomes, if any. */
export function threadNote(event: SlackAuditEvent): { text: string; detail?: string } | null {
  const details = event.details;
  switch (event.action) {
    case 'draft.created': {
      const version = Number(details.version ?? 0);
      if (version <= 1) return null;
      return {
        text: `:memo: *New draft version ${version}* (${text(details.source)}), record \`${hashPrefix(text(details.recordHash))}\`. Earlier versions can no longer be signed.`,
      };
    }
    case 'approval.escalated':
      return { text: ':alarm_clock: The approval request expired and was escalated to the next role.' };
    case 'approval.signed':
    case 'rejection.signed': {
      const signature = (details.signature ?? {}) as Record<string, unknown>;
      const approved = event.action === 'approval.signed';
      return {
        text: `${approved ? ':white_check_mark: *Approved*' : ':no_entry: *Rejected*'} by *${text(signature.printedName)}* at ${text(signature.signedAt)}${text(details.comment) ? `: “${text(details.comment)}”` : ''}`,
        detail: `Electronic signature, meaning “${text(signature.meaning)}”, over record \`${hashPrefix(text(signature.recordHash))}\` (re-authenticated with ${text(details.reauthenticatedWith) || 'password'})`,
      };
    }
    case 'action.executed':
      return {
        text: `:white_check_mark: *${title(details.type)}* executed${text(details.externalId) ? ` (reference ${text(details.externalId)})` : ''}.`,
        detail: `Idempotency key \`${text(details.idempotencyKey)}\` · attempt ${String(details.attempts ?? 1)}`,
      };
    case 'action.dead_lettered':
      return {
        text: `:x: *${title(details.type)}* failed and is in the dead-letter queue: ${text(details.error)}`,
        detail: 'Fix the cause, then replay it from andon.',
      };
    case 'action.replayed':
      return { text: `:repeat: An action was replayed from the dead-letter queue.` };
    case 'case.notified':
      // A dead-lettered action has its own line (action.dead_lettered); other notices go to the thread as they are.
      return text(details.message) && details.kind !== 'dead_lettered'
        ? { text: `:bell: ${text(details.message)}` }
        : null;
    case 'case.closed':
      return { text: `:lock: Case closed: ${text(details.reason) || 'done'}.` };
    case 'case.escalated':
      return { text: `:sos: Escalated to a human: ${text(details.reason)}` };
    default:
      if (event.action.startsWith('effectiveness.')) {
        return {
          text: `:mag: *Effectiveness check*: ${text(details.message) || text(details.result) || event.action.slice('effectiveness.'.length)}`,
        };
      }
      return null;
  }
}

/**
 * Posts cases to Slack and keeps their messages current by tailing the hash-chained audit log. The cursor only moves
 * past an event once Slack has it, so a rate limit, an outage or a crash delays notifications but never loses them.
 * One message per case; later events go to its thread; past a channel's alarm budget, cases go into one digest.
 */
export function createSlackNotifier(deps: SlackNotifierDeps) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = false;

  const snapshot = async (caseId: string, chartFileId: string | null): Promise<CaseSnapshot | null> => {
    const item = await deps.cases.get(caseId);
    if (!item) return null;
    return {
      case: item,
      deviations: await deps.cases.deviations(caseId),
      draft: await deps.cases.latestDraft(caseId),
      approvals: await deps.cases.approvals(caseId),
      executions: await deps.cases.executions(caseId),
      url: `${deps.publicUrl.replace(/\/$/, '')}/cases/${encodeURIComponent(caseId)}`,
      chartFileId,
    };
  };

  const uploadChart = async (view: CaseSnapshot, channel: string): Promise<string | null> => {
    const first = view.deviations[0];
    if (deps.charts === false || !first) return null;
    const detected = Date.parse(first.detectedAt);
    const readings = await deps.cases.signal(
      first.tag,
      new Date(detected - 15 * 60_000),
      new Date(detected + 10 * 60_000),
      1500,
    );
    const png = renderControlChart({
      readings:
        readings.length > 0 ? readings : first.window.map((point) => ({ sourceTime: point.t, value: point.value })),
      limits: first.limits,
      flagged: view.deviations
        .filter((deviation) => deviation.tag === first.tag)
        .map((deviation) => ({
          t: deviation.detectedAt,
          value: deviation.value,
        })),
    });
    const uploaded = await deps.sender.upload(
      { file: png, filename: `${view.case.id}-control-chart.png`, title: `Control chart: ${first.tag}` },
      channel,
    );
    return uploaded.files?.[0]?.files?.[0]?.id ?? null;
  };

  const postCase = async (view: CaseSnapshot, channel: string): Promise<SlackCaseMessage> => {
    let fileId: string | null = null;
    try {
      fileId = await uploadChart(view, channel);
    } catch (error) {
      deps.log(`slack: chart of ${view.case.id} not uploaded: ${(error as Error).message}`);
    }
    const post = async (withChart: string | null) =>
      deps.sender.call<{ ts: string }>(
        'chat.postMessage',
        { channel, unfurl_links: false, ...caseMessage({ ...view, chartFileId: withChart }) },
        channel,
      );
    let posted: { ts: string };
    try {
      posted = await post(fileId);
    } catch (error) {
      // A file Slack has not finished processing can make the image block invalid: post without it.
      if (!(error instanceof SlackCallError) || !fileId) throw error;
      fileId = null;
      posted = await post(null);
    }
    const message: SlackCaseMessage = {
      caseId: view.case.id,
      channel,
      ts: posted.ts,
      kind: 'case',
      digestKey: null,
      fileId,
    };
    await deps.store.saveCaseMessage(message);
    return message;
  };

  const renderDigest = async (key: string, caseIds: string[], since: string) => {
    const lines: DigestLine[] = [];
    for (const id of caseIds) {
      const item = await deps.cases.get(id);
      if (item)
        lines.push({
          id,
          title: item.title,
          severity: item.severity,
          status: item.status,
          url: `${deps.publicUrl.replace(/\/$/, '')}/cases/${encodeURIComponent(id)}`,
        });
    }
    return digestMessage({ title: key.startsWith('flood:') ? 'Alarm flood' : 'Many new cases', lines, since });
  };

  const addToDigest = async (view: CaseSnapshot, channel: string, key: string): Promise<SlackCaseMessage> => {
    const existing = await deps.store.digest(key);
    const caseIds = [...new Set([...(existing?.caseIds ?? []), view.case.id])];
    const since = existing ? existing.updatedAt : new Date().toISOString();
    const body = await renderDigest(key, caseIds, since);
    let ts: string;
    if (existing) {
      await deps.sender.call('chat.update', { channel: existing.channel, ts: existing.ts, ...body }, existing.channel);
      ts = existing.ts;
    } else {
      ts = (await deps.sender.call<{ ts: string }>('chat.postMessage', { channel, ...body }, channel)).ts;
    }
    await deps.store.saveDigest({ key, channel, ts, caseIds });
    const message: SlackCaseMessage = {
      caseId: view.case.id,
      channel,
      ts,
      kind: 'digest',
      digestKey: key,
      fileId: null,
    };
    await deps.store.saveCaseMessage(message);
    return message;
  };

  /** The case's message, posted now if the case is routed and has none; null if it does not go to Slack. */
  const ensureMessage = async (caseId: string): Promise<{ message: SlackCaseMessage; fresh: boolean } | null> => {
    const known = await deps.store.caseMessage(caseId);
    if (known) return { message: known, fresh: false };
    const view = await snapshot(caseId, null);
    if (!view) return null;
    const route = routeCase(deps.routing, view.case);
    if (!route) return null;
    const flood = view.case.context.flood;
    if (flood) return { message: await addToDigest(view, route.channel, `flood:${flood.id}`), fresh: true };
    const windowMs = route.budget.windowMinutes * 60_000;
    const recent = await deps.store.caseMessagesSince(route.channel, new Date(Date.now() - windowMs));
    if (recent >= route.budget.messages) {
      const bucket = Math.floor(Date.now() / windowMs);
      return { message: await addToDigest(view, route.channel, `budget:${route.channel}:${bucket}`), fresh: true };
    }
    return { message: await postCase(view, route.channel), fresh: true };
  };

  /** Re-render a case's message (or its digest) from the current state. */
  const refresh = async (message: SlackCaseMessage): Promise<void> => {
    if (message.kind === 'digest' && message.digestKey) {
      const digest = await deps.store.digest(message.digestKey);
      if (!digest) return;
      const body = await renderDigest(digest.key, digest.caseIds, digest.updatedAt);
      await deps.sender.call('chat.update', { channel: digest.channel, ts: digest.ts, ...body }, digest.channel);
      return;
    }
    const view = await snapshot(message.caseId, message.fileId);
    if (!view) return;
    await deps.sender.call(
      'chat.update',
      { channel: message.channel, ts: message.ts, ...caseMessage(view) },
      message.channel,
    );
  };

  const handle = async (event: SlackAuditEvent): Promise<void> => {
    if (!event.caseId) return;
    const note = threadNote(event);
    if (!note && !refreshing.has(event.action)) return;
    const ensured = await ensureMessage(event.caseId);
    if (!ensured) return;
    const { message, fresh } = ensured;
    if (!fresh && refreshing.has(event.action)) await refresh(message);
    // a case's notes go to its thread; a digest gathers many cases, so only the flood's own digest notes go to its thread
    const floodNote =
      message.kind === 'digest' &&
      message.digestKey?.startsWith('flood:') === true &&
      event.details.kind === 'flood_digest';
    if (note && (message.kind === 'case' || floodNote)) {
      await deps.sender.call(
        'chat.postMessage',
        {
          channel: message.channel,
          thread_ts: message.ts,
          unfurl_links: false,
          ...threadMessage(note.text, note.detail),
        },
        message.channel,
      );
    }
  };

  const pass = async (): Promise<number> => {
    let cursor = await deps.store.cursor(CURSOR);
    if (cursor === null) {
      cursor = await deps.store.latestAuditSeq();
      await deps.store.saveCursor(CURSOR, cursor);
    }
    let handled = 0;
    for (;;) {
      const events = await deps.store.auditSince(cursor, 50);
      if (events.length === 0) return handled;
      for (const event of events) {
        try {
          await handle(event);
        } catch (error) {
          if (!(error instanceof SlackCallError)) throw error;
          // Slack refused this one for good (channel_not_found, not_in_channel, …): say so, and go on.
          deps.log(`slack: ${event.action} of ${event.caseId}: ${error.message}`);
          await deps.audit.append({
            actor: { kind: 'service', id: 'slack' },
            action: 'slack.delivery_failed',
            subject: event.caseId ?? String(event.seq),
            caseId: event.caseId,
            details: { event: event.action, seq: event.seq, method: error.method, error: error.slackError },
          });
        }
        cursor = event.seq;
        handled += 1;
        await deps.store.saveCursor(CURSOR, cursor);
      }
    }
  };

  const tick = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let total = 0;
      try {
        do {
          again = false;
          total += await pass();
        } while (again && !stopped);
      } catch (error) {
        deps.log(`slack: notifications wait and retry: ${(error as Error).message}`);
      } finally {
        running = null;
      }
      return total;
    })();
    return running;
  };

  return {
    /** Read new audit events and bring Slack up to date; resolves with the number of events handled. */
    tick,
    /** Read new events now instead of at the next poll (after a signature, for instance). */
    wake(): void {
      void tick();
    },
    /** Re-render a case's message now (a stale button was clicked, for instance). */
    async refreshCase(caseId: string): Promise<void> {
      const message = await deps.store.caseMessage(caseId);
      if (message) await refresh(message);
    },
    start(): void {
      stopped = false;
      const loop = () => {
        if (stopped) return;
        timer = setTimeout(() => void tick().finally(loop), deps.pollMs ?? 1000);
      };
      loop();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type SlackNotifier = ReturnType<typeof createSlackNotifier>;
