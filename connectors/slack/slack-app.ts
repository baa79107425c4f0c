import { App, Assistant, type Logger, LogLevel, type types } from '@slack/bolt';
import { Hono } from 'hono';
import { z } from 'zod';
import { type ActionType, actionDefinitions, Decision } from '../../core/index.ts';
import {
  ActionIds,
  chatMessage,
  refusal,
  SIGN_VIEW_CALLBACK,
  type SigningModalMetadata,
  signingLinkModal,
  signingModal,
} from './blocks.ts';
import { createSlackNotifier, type SlackNotifier } from './notifier.ts';
import type { ChatPort, SlackAuditPort, SlackCaseReader, SlackMappedUser, SlackStorePort } from './ports.ts';
import { HonoReceiver } from './receiver.ts';
import type { SlackRouting } from './routing.ts';
import { createSlackSender, type SlackSender } from './sender.ts';

export interface SlackOptions {
  botToken: string;
  /** Verifies requests on the HTTP endpoint (required unless `appToken` selects Socket Mode). */
  signingSecret?: string | undefined;
  /** An app-level token (xapp-…): Socket Mode, no inbound internet needed. */
  appToken?: string | undefined;
  /** Web API base URL (default https://slack.com/api/). */
  slackApiUrl?: string | undefined;
  publicUrl: string;
  store: SlackStorePort;
  cases: SlackCaseReader;
  audit: SlackAuditPort;
  chat: ChatPort;
  routing: SlackRouting;
  /** The roles that may sign a draft proposing these actions (andon's signing policy). */
  approverRoles?: (actionTypes: string[]) => string[];
  /**
   * andon's own judgement of who may sign now (server/decisions.ts `decisionRefusal`, the check `decide` makes): roles
   * within their plant and area scopes, the approval policy, segregation of duties and earlier partial (two-person)
   * signatures. The reason a user may not sign, or null. With it, no signing link goes to someone `decide` would
   * refuse; without it, only `approverRoles` and the draft's author are checked.
   */
  signingRefusal?: (user: SlackMappedUser, caseId: string, decision: Decision) => Promise<string | null>;
  signingLinkTtlMinutes?: number;
  pollMs?: number;
  charts?: boolean;
  /** Least time between two updates of a chat answer being written (Slack allows about one chat.update a second). */
  chatUpdateMs?: number;
  log(line: string): void;
}

/** Roles allowed for every proposed action, as the core action registry says (any approver role if none). */
export function defaultApproverRoles(actionTypes: string[]): string[] {
  const lists = actionTypes.map((type) => actionDefinitions[type as ActionType]?.approvers ?? []);
  if (lists.length === 0) return ['quality_lead', 'supervisor'];
  return lists.reduce((common, roles) => common.filter((role) => roles.includes(role)));
}

const ButtonValue = z.object({
  caseId: z.string().min(1).max(100),
  version: z.number().int().positive(),
  recordHash: z.string(),
});
const ModalMetadata = ButtonValue.extend({ decision: Decision });

/** Parse JSON that came back from Slack (a button value, a view's private metadata); null if it is not JSON. */
const parseJson = (text: string | undefined): unknown => {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return null;
  }
};

const quietLogger = (log: (line: string) => void): Logger => {
  let level = LogLevel.WARN;
  return {
    debug: () => {},
    info: () => {},
    warn: (...messages: unknown[]) => log(`slack bolt: ${messages.map(String).join(' ')}`),
    error: (...messages: unknown[]) => log(`slack bolt: ${messages.map(String).join(' ')}`),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
};

interface Identity {
  team: string;
  user: string;
}

/**
 * andon's Slack app on Bolt: case messages and threads (through the notifier), Approve…/Reject… with a signing modal
 * and a single-use signing link, and the read-only chat for mentions, DMs, case-thread replies and the assistant pane.
 * Over HTTP it is a Hono app to mount at `/slack` (endpoint `/slack/events`); with an app token it uses Socket Mode.
 */
export function createSlackApp(options: SlackOptions) {
  const log = options.log;
  const ttlMinutes = options.signingLinkTtlMinutes ?? 10;
  const approverRoles = options.approverRoles ?? defaultApproverRoles;
  const clientOptions = {
    slackApiUrl: options.slackApiUrl ?? 'https://slack.com/api/',
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logger: quietLogger(log),
  };
  const socketMode = Boolean(options.appToken);
  if (!socketMode && !options.signingSecret) {
    throw new Error('Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode).');
  }
  const receiver = socketMode
    ? null
    : new HonoReceiver({
        signingSecret: options.signingSecret!,
        log,
        onRefused: async (refused) => {
          await options.audit.append({
            actor: { kind: 'service', id: 'slack' },
            action: 'slack.request_refused',
            subject: refused.claimedUser ?? 'unknown',
            details: refused,
          });
        },
      });
  const bolt = new App({
    token: options.botToken,
    deferInitialization: true,
    logger: quietLogger(log),
    clientOptions,
    // Socket Mode opens its connection with apps.connections.open: same Web API base URL as every other call.
    ...(socketMode
      ? { socketMode: true, appToken: options.appToken!, installerOptions: { clientOptions } }
      : { receiver: receiver! }),
  });
  const sender: SlackSender = createSlackSender(bolt.client, { log });
  const notifier: SlackNotifier = createSlackNotifier({
    store: options.store,
    cases: options.cases,
    audit: options.audit,
    sender,
    routing: options.routing,
    publicUrl: options.publicUrl,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    ...(options.charts !== undefined ? { charts: options.charts } : {}),
    log,
  });

  const audit = (action: string, subject: string, caseId: string | null, details: Record<string, unknown>) =>
    options.audit.append({ actor: { kind: 'service', id: 'slack' }, action, subject, caseId, details });

  /** The andon user behind a Slack user, or the reason there is none. */
  const identify = async (who: Identity): Promise<{ user: SlackMappedUser } | { reason: string }> => {
    const user = await options.store.userForSlack(who.team, who.user);
    if (!user)
      return {
        reason:
          'Your Slack account is not linked to an andon user, so andon did nothing. Ask an andon admin to link it: `andon slack map --slack-user YOUR_SLACK_ID --user YOUR_ANDON_NAME`.',
      };
    if (user.disabled) return { reason: `The andon user ${user.username} is disabled, so andon did nothing.` };
    if (user.kind !== 'human')
      return { reason: 'Only a person can do this; service accounts and the agent never sign.' };
    return { user };
  };

  const signingRefusal = async (
    user: SlackMappedUser,
    value: { caseId: string; version: number; recordHash: string },
    decision: Decision,
  ): Promise<string | null> => {
    const stored = await options.cases.latestDraft(value.caseId);
    const item = await options.cases.get(value.caseId);
    if (!stored || !item) return `Case ${value.caseId} has no draft to sign.`;
    if (stored.draft.version !== value.version || stored.recordHash !== value.recordHash)
      return `This message showed version ${value.version}, but the draft is now version ${stored.draft.version}. The message is updated; review the current version.`;
    if (item.status !== 'awaiting_approval')
      return `Case ${item.id} is ${item.status.replaceAll('_', ' ')}; there is nothing to sign.`;
    if (options.signingRefusal) {
      const reason = await options.signingRefusal(user, value.caseId, decision);
      return reason ? `${reason} andon did nothing.` : null;
    }
    const allowed = approverRoles(stored.draft.actions.map((action) => action.type));
    if (!user.roles.some((role) => allowed.includes(role)))
      return `Signing this draft needs one of the roles ${allowed.join(', ')}; ${user.username} has ${user.roles.join(', ') || 'none'}. andon did nothing.`;
    if (stored.draft.author === user.id || stored.draft.author === `user:${user.id}`)
      return 'You wrote or edited this draft version, so someone else must sign it (segregation of duties).';
    return null;
  };

  const explain = async (channel: string | undefined, user: string, text: string, threadTs?: string) => {
    if (!channel) return;
    await sender.call(
      'chat.postEphemeral',
      { channel, user, ...refusal(text), ...(threadTs ? { thread_ts: threadTs } : {}) },
      channel,
    );
  };

  // ---- Approve… / Reject… ----
  const decisionButton = (decision: 'approve' | 'reject') =>
    (async ({ ack, body, action }) => {
      await ack();
      const payload = body as unknown as {
        user: { id: string; team_id?: string };
        team?: { id?: string } | null;
        channel?: { id: string };
        message?: { ts: string; thread_ts?: string };
        trigger_id: string;
      };
      const who = { team: payload.team?.id ?? payload.user.team_id ?? '', user: payload.user.id };
      const channel = payload.channel?.id;
      const parsed = ButtonValue.safeParse(parseJson((action as { value?: string }).value));
      if (!parsed.success) return;
      const value = parsed.data;
      const identity = await identify(who);
      const reason = 'reason' in identity ? identity.reason : await signingRefusal(identity.user, value, decision);
      if (reason) {
        await audit('slack.action_refused', who.user, value.caseId, {
          slackUser: who.user,
          slackTeam: who.team,
          action: decision,
          andonUser: 'user' in identity ? identity.user.id : null,
          reason,
        });
        await explain(channel, who.user, reason);
        if (reason.includes('is now version') || reason.includes('nothing to sign'))
          await notifier.refreshCase(value.caseId);
        return;
      }
      const user = (identity as { user: SlackMappedUser }).user;
      const item = await options.cases.get(value.caseId);
      const stored = await options.cases.latestDraft(value.caseId);
      if (!item || !stored) return;
      await sender.call('views.open', {
        trigger_id: payload.trigger_id,
        view: signingModal({
          case: item,
          draft: stored.draft,
          recordHash: stored.recordHash,
          decision,
          signer: user,
          message: channel && payload.message ? { channel, ts: payload.message.ts } : null,
        }),
      });
      await audit('slack.signing_started', who.user, value.caseId, {
        slackUser: who.user,
        slackTeam: who.team,
        andonUser: user.id,
        decision,
        draftVersion: value.version,
        recordHash: value.recordHash,
      });
    }) satisfies Parameters<typeof bolt.action>[1];
  bolt.action(ActionIds.approve, decisionButton('approve'));
  bolt.action(ActionIds.reject, decisionButton('reject'));
  bolt.action(ActionIds.open, async ({ ack }) => ack());
  bolt.action(ActionIds.signLink, async ({ ack }) => ack());

  bolt.view(SIGN_VIEW_CALLBACK, async ({ ack, body, view }) => {
    const who = { team: body.team?.id ?? body.user.team_id ?? '', user: body.user.id };
    const parsed = ModalMetadata.safeParse(parseJson(view.private_metadata));
    if (!parsed.success) {
      await ack({
        response_action: 'errors',
        errors: { comment: 'This form is out of date; close it and start again.' },
      });
      return;
    }
    const metadata: SigningModalMetadata = parsed.data;
    const identity = await identify(who);
    const reason =
      'reason' in identity ? identity.reason : await signingRefusal(identity.user, metadata, metadata.decision);
    const comment = (view.state.values.comment?.comment?.value ?? '').trim();
    const problem =
      reason ??
      (metadata.decision === 'reject' && !comment ? 'Say why you reject it: triage redrafts with your reason.' : null);
    if (problem) {
      await ack({ response_action: 'errors', errors: { comment: problem.slice(0, 300) } });
      if (reason)
        await audit('slack.action_refused', who.user, metadata.caseId, {
          slackUser: who.user,
          slackTeam: who.team,
          action: `${metadata.decision}:submit`,
          andonUser: 'user' in identity ? identity.user.id : null,
          reason,
        });
      return;
    }
    const user = (identity as { user: SlackMappedUser }).user;
    const link = await options.store.issueSigningLink({
      caseId: metadata.caseId,
      draftVersion: metadata.version,
      recordHash: metadata.recordHash,
      decision: metadata.decision,
      comment,
      userId: user.id,
      slackTeamId: who.team,
      slackUserId: who.user,
      ttlMinutes,
    });
    const url = `${options.publicUrl.replace(/\/$/, '')}/slack/sign/${link.token}`;
    await ack({
      response_action: 'update',
      view: signingLinkModal({ ...metadata, url, expiresAt: link.expiresAt, ttlMinutes }) as unknown as types.View,
    });
    await audit('slack.signing_link_issued', who.user, metadata.caseId, {
      slackUser: who.user,
      slackTeam: who.team,
      andonUser: user.id,
      decision: metadata.decision,
      draftVersion: metadata.version,
      recordHash: metadata.recordHash,
      expiresAt: link.expiresAt.toISOString(),
    });
  });

  // ---- Chat: mentions, DMs, case-thread replies, the assistant pane ----
  const answer = async (input: {
    who: Identity;
    channel: string;
    threadTs: string;
    text: string;
    caseId?: string | null;
  }) => {
    const identity = await identify(input.who);
    if ('reason' in identity) {
      await audit('slack.chat_refused', input.who.user, null, {
        slackUser: input.who.user,
        slackTeam: input.who.team,
        reason: identity.reason,
      });
      await explain(input.channel, input.who.user, identity.reason, input.threadTs);
      return;
    }
    const question = input.text.replace(/<@[A-Z0-9]+>/g, '').trim();
    const caseId =
      input.caseId ??
      (await options.store.caseForThread(input.channel, input.threadTs)) ??
      question.match(/\bCASE-[A-Za-z0-9_.:-]+/)?.[0] ??
      null;
    const placeholder = await sender.call<{ ts: string; channel: string }>(
      'chat.postMessage',
      {
        channel: input.channel,
        thread_ts: input.threadTs,
        ...chatMessage({ text: '', citations: [], label: '', done: false }),
      },
      input.channel,
    );
    let lastUpdate = Date.now();
    const result = await options.chat.answer(
      { question, caseId, user: identity.user },
      {
        onText: async (soFar) => {
          if (Date.now() - lastUpdate < (options.chatUpdateMs ?? 1000)) return;
          lastUpdate = Date.now();
          await sender.call(
            'chat.update',
            {
              channel: placeholder.channel ?? input.channel,
              ts: placeholder.ts,
              ...chatMessage({ text: soFar, citations: [], label: '', done: false }),
            },
            input.channel,
          );
        },
      },
    );
    await sender.call(
      'chat.update',
      {
        channel: placeholder.channel ?? input.channel,
        ts: placeholder.ts,
        ...chatMessage({
          ...result,
          text: [result.text, ...(result.flags ?? []).map((flag) => `_⚠ ${flag}_`)].join('\n\n'),
          done: true,
        }),
      },
      input.channel,
    );
    await audit('slack.chat_answered', input.who.user, caseId, {
      slackUser: input.who.user,
      andonUser: identity.user.id,
      question: question.slice(0, 300),
      citations: result.citations.map((citation) => citation.chunkId),
      mode: result.mode ?? null,
      flags: result.flags ?? [],
      proposedEdit: result.proposedEdit ?? null,
    });
  };

  bolt.assistant(
    new Assistant({
      threadStarted: async ({ setSuggestedPrompts, say }) => {
        await say('Ask me about a case (name it, e.g. CASE-…) or an SOP. I answer with sources and never act.');
        await setSuggestedPrompts({
          prompts: [
            { title: 'Open cases', message: 'Which cases wait for a signature?' },
            { title: 'Seal temperature', message: 'What does the SOP say about seal temperature drift?' },
          ],
        });
      },
      userMessage: async ({ message, body }) => {
        const event = message as { user?: string; text?: string; channel: string; thread_ts?: string; ts: string };
        if (!event.user) return;
        const team = (body as { team_id?: string }).team_id ?? '';
        await answer({
          who: { team, user: event.user },
          channel: event.channel,
          threadTs: event.thread_ts ?? event.ts,
          text: event.text ?? '',
        });
      },
    }),
  );

  bolt.event('app_mention', async ({ event, body }) => {
    if (!event.user) return;
    await answer({
      who: { team: (body as { team_id?: string }).team_id ?? event.team ?? '', user: event.user },
      channel: event.channel,
      threadTs: event.thread_ts ?? event.ts,
      text: event.text,
    });
  });

  bolt.message(async ({ message, body, context }) => {
    const event = message as {
      subtype?: string;
      bot_id?: string;
      user?: string;
      text?: string;
      channel: string;
      channel_type?: string;
      thread_ts?: string;
      ts: string;
    };
    if (event.subtype || event.bot_id || !event.user) return;
    if (context.botUserId && event.text?.includes(`<@${context.botUserId}>`)) return; // app_mention answers it
    const team = (body as { team_id?: string }).team_id ?? '';
    if (event.channel_type === 'im') {
      await answer({
        who: { team, user: event.user },
        channel: event.channel,
        threadTs: event.thread_ts ?? event.ts,
        text: event.text ?? '',
      });
      return;
    }
    if (!event.thread_ts || event.thread_ts === event.ts) return;
    const caseId = await options.store.caseForThread(event.channel, event.thread_ts);
    if (!caseId) return;
    await answer({
      who: { team, user: event.user },
      channel: event.channel,
      threadTs: event.thread_ts,
      text: event.text ?? '',
      caseId,
    });
  });

  bolt.error(async (error) => {
    log(`slack: ${error.message}`);
  });

  const http = new Hono();
  if (receiver) http.post('/events', (c) => receiver.handle(c.req.raw));

  let initialised: Promise<void> | null = null;
  const initialise = (): Promise<void> => {
    initialised ??= (async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await bolt.init();
          return;
        } catch (error) {
          log(`slack: cannot reach Slack (auth.test): ${(error as Error).message}; retry ${attempt}`);
          await new Promise((resolve) => setTimeout(resolve, Math.min(60_000, 1000 * 2 ** attempt)));
        }
      }
    })();
    return initialised;
  };

  return {
    bolt,
    sender,
    notifier,
    /** Mount at `/slack`: Slack's request URL is `<PUBLIC_URL>/slack/events`. Empty in Socket Mode. */
    http,
    mode: socketMode ? ('socket' as const) : ('http' as const),
    /** Verify the bot token with auth.test (retried until Slack answers); listeners work from then on. */
    ready: initialise,
    /** Verify the bot token, connect Socket Mode if configured, and start posting cases. */
    async start(): Promise<void> {
      await initialise();
      if (socketMode) await bolt.start();
      notifier.start();
    },
    async stop(): Promise<void> {
      await notifier.stop();
      if (socketMode) await bolt.stop().catch(() => {});
    },
  };
}

export type SlackApp = ReturnType<typeof createSlackApp>;
