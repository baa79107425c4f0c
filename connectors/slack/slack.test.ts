import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCaseChat, createOfflineDrafter } from '../../agent/index.ts';
import { startDispatcher } from '../../app/dispatcher.ts';
import { createPipeline } from '../../app/pipeline.ts';
import { type Deviation, type KnowledgePort, ok } from '../../core/index.ts';
import { createDetectorBank } from '../../detection/index.ts';
import { createTriage } from '../../graph/index.ts';
import { approverRoles, createServer, createSigningApp, decisionRefusal } from '../../server/index.ts';
import { createStores, type Database, openDatabase, type StoreSet } from '../../store/index.ts';
import { fakeSlackApi, textOf } from './__fixtures__/slack-api.ts';
import { createSlackApp, type SlackApp, SlackRouting, signSlackRequest } from './index.ts';

const SECRET = 'test-signing-secret';
const clock = { now: () => new Date() };
const slackApi = fakeSlackApi();

const passage = (chunkId: string, section: string, text: string) => ({
  citation: { chunkId, documentId: 'SOP-7', title: 'SOP-7 Heat sealer', section, quote: text.slice(0, 80) },
  text,
  score: 0.9,
  kind: 'sop',
  metadata: {},
});
/** A fixed knowledge base: the offline drafter finds the cause in its troubleshooting table. */
const knowledge: KnowledgePort = {
  async search() {
    return [
      passage(
        'k1',
        '§ 3 Troubleshooting',
        '| Symptom | Probable cause | Check | Action |\n|---|---|---|---|\n| seal temperature drifting high | Thermocouple drift | Compare with probe | Replace thermocouple |',
      ),
      passage('k2', '§ 4.2 Containment', 'Hold all lots produced since the drift began.'),
    ];
  },
};

let database: Database;
let stores: StoreSet;
let slack: SlackApp;
let baseUrl: string;
let closeHttp: () => Promise<void>;
let sequence = 0;

async function newCase(options: { area?: string; line?: string; severity?: Deviation['severity'] } = {}) {
  sequence += 1;
  const deviation: Deviation = {
    id: `dev-${sequence}`,
    tag: `${options.line ?? 'packaging.line1'}.seal_temperature_${sequence}`,
    detector: 'ewma',
    rule: 'limit',
    severity: options.severity ?? 'high',
    detectedAt: new Date().toISOString(),
    value: 186.2,
    statistic: 185.9,
    limits: { lower: 178, center: 180, upper: 182 },
    message: 'seal temperature drifting high',
    window: [],
    contributions: [],
    area: options.area ?? 'packaging',
  };
  const now = Date.now();
  await stores.readings.insert(
    Array.from({ length: 40 }, (_, index) => ({
      tag: deviation.tag,
      value: 180 + (index > 25 ? (index - 25) * 0.5 : Math.sin(index)),
      sourceTime: new Date(now - (40 - index) * 10_000).toISOString(),
      quality: 'good' as const,
    })),
  );
  return (
    await stores.cases.recordDeviation(deviation, {
      line: options.line ?? 'packaging.line1',
      lot: 'L-42',
      product: 'Bars',
    })
  ).caseId;
}

/** POST a body to /slack/events signed like Slack does (or not). */
async function send(
  body: string,
  options: { contentType?: string; timestamp?: number; signature?: string } = {},
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? signSlackRequest(SECRET, body, timestamp),
    },
    body,
  });
}
const interaction = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;

const blockAction = (user: string, actionId: string, value: string, message: { channel: string; ts: string }) => ({
  type: 'block_actions',
  api_app_id: 'A1',
  token: 'legacy',
  trigger_id: `trigger-${user}-${Date.now()}`,
  team: { id: 'T1', domain: 'plant' },
  user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
  container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
  channel: { id: message.channel, name: 'line1' },
  message: { ts: message.ts, type: 'message', text: 'case' },
  actions: [{ type: 'button', action_id: actionId, block_id: 'decide', value, action_ts: '1' }],
});

const viewSubmission = (user: string, privateMetadata: string, comment: string) => ({
  type: 'view_submission',
  api_app_id: 'A1',
  token: 'legacy',
  trigger_id: 'trigger-view',
  team: { id: 'T1', domain: 'plant' },
  user: { id: user, username: user.toLowerCase(), team_id: 'T1' },
  view: {
    id: 'V1',
    team_id: 'T1',
    type: 'modal',
    callback_id: 'andon_sign',
    private_metadata: privateMetadata,
    state: { values: { comment: { comment: { type: 'plain_text_input', value: comment } } } },
    hash: 'h',
  },
  response_urls: [],
});

const eventCallback = (event: Record<string, unknown>) => ({
  token: 'legacy',
  team_id: 'T1',
  api_app_id: 'A1',
  type: 'event_callback',
  event_id: `Ev${Date.now()}${Math.random().toString(36).slice(2, 6)}`,
  event_time: Math.floor(Date.now() / 1000),
  authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true }],
  event,
});

const refusals = async () =>
  (await stores.audit.list({ limit: 50 })).filter(
    (entry) => entry.action.startsWith('slack.') && entry.action.endsWith('refused'),
  );

let triage: ReturnType<typeof createTriage>;

beforeAll(async () => {
  slackApi.server.listen({ onUnhandledRequest: 'bypass' });
  database = await openDatabase({ dataDir: 'memory://slack-test' });
  stores = createStores(database, clock);
  await new PostgresSaver(database.pool).setup();
  const quality = await stores.users.create({
    username: 'quality',
    displayName: 'Quinn Quality',
    roles: ['quality_lead'],
    password: 'pw-quality',
  });
  const operator = await stores.users.create({
    username: 'operator',
    displayName: 'Otto Operator',
    roles: ['operator'],
    password: 'pw-operator',
  });
  await stores.slack.mapUser({ slackTeamId: 'T1', slackUserId: 'UQUALITY', userId: quality.id, createdBy: 'test' });
  await stores.slack.mapUser({ slackUserId: 'UOPERATOR', userId: operator.id, createdBy: 'test' });
  const assembly = await stores.users.create({
    username: 'assembly-lead',
    displayName: 'Ada Assembly',
    roles: ['quality_lead'],
    scopes: ['quality_lead@area-assembly'],
    password: 'pw-assembly',
  });
  await stores.slack.mapUser({ slackTeamId: 'T1', slackUserId: 'UASSEMBLY', userId: assembly.id, createdBy: 'test' });
  triage = createTriage(
    {
      cases: stores.cases,
      drafts: stores.drafts,
      knowledge,
      signals: stores.readings,
      drafter: createOfflineDrafter(),
      audit: stores.audit,
      outbox: stores.outbox,
      clock,
    },
    new PostgresSaver(database.pool),
  );
  const reader = {
    get: (id: string) => stores.cases.get(id),
    deviations: (id: string) => stores.cases.deviations(id),
    latestDraft: (id: string) => stores.drafts.latestStored(id),
    approvals: (id: string) => stores.approvals.forCase(id),
    executions: (id: string) => stores.outbox.forCase(id),
    signal: (tag: string, from: Date, to: Date, limit: number) => stores.readings.window(tag, from, to, limit),
  };
  slack = createSlackApp({
    botToken: 'xoxb-test',
    signingSecret: SECRET,
    publicUrl: 'http://andon.test',
    store: stores.slack,
    cases: reader,
    audit: stores.audit,
    chat: createCaseChat({ knowledge, cases: reader, signals: stores.readings }),
    routing: SlackRouting.parse({
      routes: [
        { line: 'packaging.line1', channel: 'C0LINE1', minSeverity: 'medium' },
        { line: 'packaging.line2', channel: 'C0LINE2' },
        { area: 'utilities', channel: 'C0UTIL', budget: { messages: 2, windowMinutes: 10 } },
      ],
      budget: { messages: 100, windowMinutes: 10 },
    }),
    approverRoles,
    signingRefusal: (user, caseId, decision) => decisionRefusal(stores, { caseId, decision, user }),
    chatUpdateMs: 0,
    log: (line) => {
      if (process.env.DEBUG_SLACK) console.log(line);
    },
  });
  await slack.ready();
  const server = createServer({
    ...stores,
    triage,
    mounts: [
      { path: '/slack', app: slack.http },
      {
        path: '/slack/sign',
        app: createSigningApp({ ...stores, triage, onSigned: () => slack.notifier.wake() }),
      },
    ],
    publicUrl: 'http://andon.test',
    sessionTtlHours: 1,
    secureCookies: false,
    log: () => {},
  });
  const http = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const instance = serve({ fetch: server.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(instance));
  });
  baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  closeHttp = () => new Promise((resolve) => http.close(() => resolve()));
  await slack.notifier.tick(); // sets the cursor: only what happens from now on goes to Slack
});

afterAll(async () => {
  await slack?.stop();
  await closeHttp?.();
  await database?.close();
  slackApi.server.close();
});

beforeEach(() => slackApi.reset());

/** A case on line 1 waiting for approval, posted to Slack. */
async function postedCase() {
  const caseId = await newCase();
  await triage.start(caseId);
  await slack.notifier.tick();
  const message = (await stores.slack.caseMessage(caseId))!;
  return { caseId, message };
}
let shared: Promise<Awaited<ReturnType<typeof postedCase>>> | undefined;
/** One posted case for the tests that refuse, reject or chat (nothing of theirs changes it). */
const sharedCase = () => {
  shared ??= postedCase();
  return shared;
};

describe('case notifications', () => {
  it('posts one message per case with summary, context, hypotheses with citations, chart and buttons', async () => {
    const { caseId, message } = await postedCase();
    const posts = slackApi
      .of('chat.postMessage')
      .filter((call) => call.args.channel === 'C0LINE1' && !call.args.thread_ts);
    expect(posts).toHaveLength(1);
    expect(message).toMatchObject({ channel: 'C0LINE1', kind: 'case', fileId: 'F0CHART' });
    expect(slackApi.of('upload')[0]?.args.bytes).toBeGreaterThan(500);
    // The case opened, was drafted and asked for approval: the message was posted once and then updated.
    const latest = slackApi
      .of('chat.update')
      .filter((call) => call.args.ts === message.ts)
      .at(-1)!;
    const blocks = latest.args.blocks as Array<Record<string, unknown>>;
    const text = textOf(blocks);
    expect(text).toContain('HIGH');
    expect(text).toContain('L-42');
    expect(text).toContain('Top hypotheses');
    expect(text).toContain('SOP-7 Heat sealer');
    expect(text).toContain('Offline draft');
    expect(blocks.find((block) => block.type === 'image')).toMatchObject({ slack_file: { id: 'F0CHART' } });
    const buttons = (blocks.find((block) => block.type === 'actions')!.elements as Array<Record<string, unknown>>).map(
      (element) => element.action_id,
    );
    expect(buttons).toEqual(['andon_approve', 'andon_reject', 'andon_open']);
    const open = (blocks.find((block) => block.type === 'actions')!.elements as Array<Record<string, unknown>>)[2]!;
    expect(open.url).toBe(`http://andon.test/cases/${caseId}`);
  });

  it('does not post a case below the route’s severity threshold', async () => {
    const caseId = await newCase({ severity: 'low' });
    await slack.notifier.tick();
    expect(await stores.slack.caseMessage(caseId)).toBeNull();
    expect(slackApi.of('chat.postMessage')).toHaveLength(0);
  });

  it('turns a flood into one digest message that is updated, past the channel’s alarm budget', async () => {
    for (let index = 0; index < 5; index += 1) await newCase({ area: 'utilities', line: 'utilities.boiler' });
    await slack.notifier.tick();
    const posts = slackApi.of('chat.postMessage').filter((call) => call.args.channel === 'C0UTIL');
    expect(posts).toHaveLength(3); // two case messages, then one digest
    expect(textOf(posts[2]!.args.blocks)).toContain('Many new cases: 1 case(s)');
    const updates = slackApi
      .of('chat.update')
      .filter((call) => call.args.ts === (posts[2]!.args as { ts?: string }).ts || call.args.channel === 'C0UTIL');
    expect(textOf(updates.at(-1)!.args.blocks)).toContain('Many new cases: 3 case(s)');
  });

  it('waits out a 429 with Retry-After and still delivers the notification', async () => {
    slackApi.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const caseId = await newCase();
    const started = Date.now();
    await slack.notifier.tick();
    const posts = slackApi.of('chat.postMessage').filter((call) => call.args.channel === 'C0LINE1');
    expect(posts).toHaveLength(2); // the refused one and the one after Retry-After
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await stores.slack.caseMessage(caseId)).not.toBeNull();
  });
});

describe('the Slack endpoint inside andon’s server', () => {
  it('answers Slack’s URL verification challenge', async () => {
    const response = await send(JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' }), {
      contentType: 'application/json',
    });
    expect(await response.json()).toEqual({ challenge: 'abc123' });
  });

  it('refuses and audits a forged signature, a replayed request and a stale timestamp', async () => {
    const { caseId, message } = await sharedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    const body = interaction(blockAction('UQUALITY', 'andon_approve', value, message));
    slackApi.reset();

    const forged = await send(body, {
      signature: signSlackRequest('not-the-secret', body, Math.floor(Date.now() / 1000)),
    });
    expect(forged.status).toBe(401);

    const timestamp = Math.floor(Date.now() / 1000);
    const first = await send(body, { timestamp });
    expect(first.status).toBe(200);
    const replayed = await send(body, { timestamp });
    expect(replayed.status).toBe(401);

    const stale = await send(body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const future = await send(body, { timestamp: Math.floor(Date.now() / 1000) + 6 * 60 });
    expect(future.status).toBe(401);

    const reasons = (await refusals())
      .filter((entry) => entry.action === 'slack.request_refused')
      .map((entry) => entry.details.reason);
    expect(reasons).toEqual(expect.arrayContaining(['bad_signature', 'replayed', 'stale_timestamp']));
    expect((await refusals()).find((entry) => entry.details.reason === 'bad_signature')?.details.claimedUser).toBe(
      'UQUALITY',
    );
    await expect.poll(() => slackApi.of('views.open').length).toBe(1); // only the genuine request opened the modal
  });

  it('an unmapped Slack user’s click does nothing but explain privately, and is audited', async () => {
    const { caseId, message } = await sharedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    slackApi.reset();
    const response = await send(interaction(blockAction('USTRANGER', 'andon_approve', value, message)));
    expect(response.status).toBe(200);
    await expect.poll(() => slackApi.of('chat.postEphemeral').length).toBe(1);
    const ephemeral = slackApi.of('chat.postEphemeral')[0]!;
    expect(ephemeral.args).toMatchObject({ channel: message.channel, user: 'USTRANGER' });
    expect(textOf(ephemeral.args.blocks)).toContain('not linked to an andon user');
    expect(slackApi.of('views.open')).toHaveLength(0);
    const refused = (await refusals()).find(
      (entry) => entry.action === 'slack.action_refused' && entry.details.slackUser === 'USTRANGER',
    );
    expect(refused?.caseId).toBe(caseId);
    expect(await stores.approvals.forCase(caseId)).toEqual([]);
  });

  it('a mapped user without an approver role gets an explanation and no signing step', async () => {
    const { caseId, message } = await sharedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    slackApi.reset();
    await send(interaction(blockAction('UOPERATOR', 'andon_approve', value, message)));
    await expect.poll(() => slackApi.of('chat.postEphemeral').length).toBe(1);
    expect(textOf(slackApi.of('chat.postEphemeral')[0]!.args.blocks)).toMatch(
      /needs one of the roles .*you have operator here\. andon did nothing\./,
    );
    expect(slackApi.of('views.open')).toHaveLength(0);
    const refused = (await refusals()).find(
      (entry) => entry.action === 'slack.action_refused' && entry.details.slackUser === 'UOPERATOR',
    );
    expect(refused).toBeDefined();
  });

  it('a quality lead scoped to another area gets no signing step, as decide() would refuse them', async () => {
    const { caseId, message } = await sharedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    slackApi.reset();
    await send(interaction(blockAction('UASSEMBLY', 'andon_approve', value, message)));
    await expect.poll(() => slackApi.of('chat.postEphemeral').length).toBe(1);
    expect(textOf(slackApi.of('chat.postEphemeral')[0]!.args.blocks)).toMatch(
      /needs one of the roles .*you have none that applies here/,
    );
    expect(slackApi.of('views.open')).toHaveLength(0);
    const refused = (await refusals()).find(
      (entry) => entry.action === 'slack.action_refused' && entry.details.slackUser === 'UASSEMBLY',
    );
    expect(refused?.caseId).toBe(caseId);
  });
});

describe('Approve… and the signing link', () => {
  it('shows what is signed, hands out a single-use link, signs with the password and updates the message', async () => {
    const { caseId, message } = await postedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    slackApi.reset();

    expect((await send(interaction(blockAction('UQUALITY', 'andon_approve', value, message)))).status).toBe(200);
    await expect.poll(() => slackApi.of('views.open').length).toBe(1);
    const view = slackApi.of('views.open')[0]!.args.view as Record<string, unknown>;
    const modalText = textOf(view.blocks);
    expect(modalText).toContain(`version ${stored.draft.version}`);
    expect(modalText).toContain(stored.recordHash.slice(0, 12));
    expect(modalText).toContain('Signature meaning');
    expect(modalText).toContain(stored.draft.actions[0]!.preview.slice(0, 30));
    expect(JSON.stringify(view)).not.toMatch(/password_input|"type":"password"/);

    const submitted = await send(interaction(viewSubmission('UQUALITY', String(view.private_metadata), 'contain it')));
    const answer = (await submitted.json()) as { response_action: string; view: Record<string, unknown> };
    expect(answer.response_action).toBe('update');
    const link = JSON.stringify(answer.view).match(/http:\/\/andon\.test(\/slack\/sign\/[A-Za-z0-9_-]+)/)?.[1];
    expect(link).toBeDefined();

    // A link-preview bot fetches the page: nothing changes.
    const preview = await fetch(`${baseUrl}${link}`);
    expect(preview.status).toBe(200);
    const page = await preview.text();
    expect(page).toContain(stored.recordHash);
    expect(page).toContain('Quinn Quality');
    expect(await stores.approvals.forCase(caseId)).toEqual([]);

    const post = (password: string) =>
      fetch(`${baseUrl}${link}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ password, comment: 'contain it' }),
      });
    const wrong = await post('pw-operator');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('2 attempt(s) left');
    const signed = await post('pw-quality');
    expect(signed.status).toBe(200);
    expect(await signed.text()).toContain('Signed');
    expect((await post('pw-quality')).status).toBe(410);

    const approvals = await stores.approvals.forCase(caseId);
    expect(approvals).toHaveLength(1);
    expect(approvals[0]!.signature).toMatchObject({
      printedName: 'Quinn Quality',
      meaning: 'approved',
      recordHash: stored.recordHash,
    });
    const signedEntry = (await stores.audit.listForCase(caseId)).find((entry) => entry.action === 'approval.signed');
    expect(signedEntry?.details.comment).toBe('contain it');

    await slack.notifier.tick();
    const update = slackApi
      .of('chat.update')
      .filter((call) => call.args.ts === message.ts)
      .at(-1)!;
    const blocks = update.args.blocks as Array<Record<string, unknown>>;
    expect(textOf(blocks)).toContain('Approved* by *Quinn Quality*');
    const actionIds = blocks
      .filter((block) => block.type === 'actions')
      .flatMap((block) => (block.elements as Array<{ action_id: string }>).map((element) => element.action_id));
    expect(actionIds).toEqual(['andon_open']);
    const thread = slackApi.of('chat.postMessage').filter((call) => call.args.thread_ts === message.ts);
    expect(textOf(thread.map((call) => call.args.blocks))).toContain('Approved* by *Quinn Quality*');
  });

  it('Reject… needs a reason in the modal before it hands out a link', async () => {
    const { caseId } = await sharedCase();
    const stored = (await stores.drafts.latestStored(caseId))!;
    const metadata = JSON.stringify({
      caseId,
      version: stored.draft.version,
      recordHash: stored.recordHash,
      decision: 'reject',
    });
    const response = await send(interaction(viewSubmission('UQUALITY', metadata, '')));
    expect(await response.json()).toMatchObject({
      response_action: 'errors',
      errors: { comment: expect.stringContaining('why') },
    });
  });
});

describe('chat', () => {
  it('answers a mention in a case thread with sources, updating one message', async () => {
    const { caseId, message } = await sharedCase();
    slackApi.reset();
    const response = await send(
      JSON.stringify(
        eventCallback({
          type: 'app_mention',
          user: 'UQUALITY',
          text: '<@UBOT> why is the seal temperature drifting?',
          ts: '1800000000.000200',
          channel: message.channel,
          thread_ts: message.ts,
          event_ts: '1800000000.000200',
        }),
      ),
      { contentType: 'application/json' },
    );
    expect(response.status).toBe(200);
    await expect
      .poll(() => slackApi.of('chat.update').some((call) => textOf(call.args.blocks).includes('Offline answer')))
      .toBe(true);
    const placeholder = slackApi.of('chat.postMessage')[0]!;
    expect(placeholder.args).toMatchObject({ channel: message.channel, thread_ts: message.ts });
    const final = textOf(slackApi.of('chat.update').at(-1)!.args.blocks);
    expect(final).toContain(caseId);
    expect(final).toContain('SOP-7 Heat sealer');
    expect(final).toContain('Offline answer');
    expect(final).toContain('read-only');
  });

  it('answers a plain reply in a case thread in that thread, growing one message with chat.update', async () => {
    const { caseId, message } = await sharedCase();
    slackApi.reset();
    const response = await send(
      JSON.stringify(
        eventCallback({
          type: 'message',
          channel_type: 'channel',
          user: 'UQUALITY',
          text: 'why did it drift, and what is the containment and the next action?',
          ts: '1800000002.000100',
          channel: message.channel,
          thread_ts: message.ts,
          event_ts: '1800000002.000100',
        }),
      ),
      { contentType: 'application/json' },
    );
    expect(response.status).toBe(200);
    await expect
      .poll(() => slackApi.of('chat.update').some((call) => textOf(call.args.blocks).includes('Offline answer')))
      .toBe(true);
    const placeholder = slackApi.of('chat.postMessage').find((call) => call.args.thread_ts === message.ts)!;
    expect(placeholder).toBeDefined();
    const updates = slackApi.of('chat.update').filter((call) => call.args.channel === message.channel);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    const texts = updates.map((call) => textOf(call.args.blocks));
    // the answer grows in the same message: each update holds the one before it
    expect(texts[1]).toContain(caseId);
    for (let index = 1; index < texts.length; index += 1)
      expect(texts[index]!.length).toBeGreaterThanOrEqual(texts[index - 1]!.length);
    expect(new Set(updates.map((call) => call.args.ts)).size).toBe(1); // one message, updated
    expect(texts.at(-1)).toContain('Hypotheses in the current draft');
    expect(texts.at(-1)).toContain('Proposed actions');
    expect(texts.at(-1)).toContain('SOP-7 Heat sealer');
    const audit = (await stores.audit.listForCase(caseId)).filter((entry) => entry.action === 'slack.chat_answered');
    expect(audit.at(-1)?.details).toMatchObject({ slackUser: 'UQUALITY' });
  });

  it('answers a DM from a linked user in the DM, and ignores channel chatter outside case threads', async () => {
    slackApi.reset();
    await send(
      JSON.stringify(
        eventCallback({
          type: 'message',
          channel_type: 'channel',
          user: 'UQUALITY',
          text: 'lunch at noon?',
          ts: '1800000003.000100',
          channel: 'C0RANDOM',
          event_ts: '1800000003.000100',
        }),
      ),
      { contentType: 'application/json' },
    );
    await send(
      JSON.stringify(
        eventCallback({
          type: 'message',
          channel_type: 'im',
          user: 'UQUALITY',
          text: 'what does the SOP say about containment?',
          ts: '1800000004.000100',
          channel: 'D0QUALITY',
          event_ts: '1800000004.000100',
        }),
      ),
      { contentType: 'application/json' },
    );
    await expect.poll(() => slackApi.of('chat.update').some((call) => call.args.channel === 'D0QUALITY')).toBe(true);
    expect(slackApi.of('chat.postMessage').map((call) => call.args.channel)).toEqual(['D0QUALITY']);
    const final = textOf(slackApi.of('chat.update').at(-1)!.args.blocks);
    expect(final).toContain('Hold all lots produced since the drift began.');
  });

  it('the assistant pane (Bolt’s Assistant): greets with suggested prompts, then answers in the assistant thread once', async () => {
    const { caseId } = await sharedCase();
    slackApi.reset();
    await send(
      JSON.stringify(
        eventCallback({
          type: 'assistant_thread_started',
          assistant_thread: {
            user_id: 'UQUALITY',
            context: { channel_id: 'C0LINE1', team_id: 'T1', enterprise_id: null },
            channel_id: 'D0PANE',
            thread_ts: '1800000005.000100',
          },
          event_ts: '1800000005.000200',
        }),
      ),
      { contentType: 'application/json' },
    );
    await expect.poll(() => slackApi.of('assistant.threads.setSuggestedPrompts').length).toBe(1);
    const greeting = slackApi.of('chat.postMessage').find((call) => call.args.channel === 'D0PANE');
    expect(greeting?.args).toMatchObject({ thread_ts: '1800000005.000100' });
    expect(String(greeting?.args.text)).toMatch(/never act/);

    slackApi.reset();
    await send(
      JSON.stringify(
        eventCallback({
          type: 'message',
          channel_type: 'im',
          user: 'UQUALITY',
          text: `why is ${caseId} open?`,
          ts: '1800000006.000100',
          thread_ts: '1800000005.000100',
          channel: 'D0PANE',
          event_ts: '1800000006.000100',
        }),
      ),
      { contentType: 'application/json' },
    );
    await expect
      .poll(() => slackApi.of('chat.update').some((call) => textOf(call.args.blocks).includes('Offline answer')))
      .toBe(true);
    const placeholders = slackApi.of('chat.postMessage').filter((call) => call.args.channel === 'D0PANE');
    expect(placeholders).toHaveLength(1);
    expect(placeholders[0]?.args.thread_ts).toBe('1800000005.000100');
    expect(textOf(slackApi.of('chat.update').at(-1)!.args.blocks)).toContain(caseId);
  });

  it('does not answer an unmapped user in a DM, says why, and audits it', async () => {
    slackApi.reset();
    await send(
      JSON.stringify(
        eventCallback({
          type: 'message',
          channel_type: 'im',
          user: 'USTRANGER',
          text: 'what is on hold?',
          ts: '1800000001.000100',
          channel: 'D0DM',
          event_ts: '1800000001.000100',
        }),
      ),
      { contentType: 'application/json' },
    );
    await expect.poll(() => slackApi.of('chat.postEphemeral').length).toBe(1);
    expect(slackApi.of('chat.postMessage')).toHaveLength(0);
    expect((await refusals()).some((entry) => entry.action === 'slack.chat_refused')).toBe(true);
  });
});

describe('end to end', () => {
  it('drift → case → Slack message → signed Approve → action executes → message updated', async () => {
    const triaged: Array<Promise<unknown>> = [];
    const pipeline = createPipeline({
      readings: stores.readings,
      cases: stores.cases,
      bank: createDetectorBank({ shewhart: false }),
      onCaseOpened: (caseId) => triaged.push(triage.start(caseId)),
      log: () => {},
    });
    pipeline.setContext({ scope: 'packaging.line2', product: 'Bars', lot: 'L-E2E', order: 'PO-7' });
    const start = Date.now() - 3_600_000;
    const reading = (index: number, value: number) => ({
      tag: 'packaging.line2.seal_temperature',
      value,
      sourceTime: new Date(start + index * 5_000).toISOString(),
      quality: 'good' as const,
    });
    const noise = (index: number) => 180 + 0.3 * Math.sin(index * 1.7) + 0.2 * Math.cos(index * 0.9);
    // In control, then the heat sealer drifts upwards.
    for (let index = 0; index < 400 && triaged.length === 0; index += 20) {
      await pipeline.onReadings(
        Array.from({ length: 20 }, (_, offset) => {
          const at = index + offset;
          return reading(at, noise(at) + (at > 200 ? (at - 200) * 0.05 : 0));
        }),
      );
    }
    expect(triaged.length).toBeGreaterThan(0);
    await Promise.all(triaged);
    const caseId = (await stores.cases.list({ status: 'awaiting_approval' })).find((item) =>
      item.tags.includes('packaging.line2.seal_temperature'),
    )!.id;

    slackApi.reset();
    await slack.notifier.tick();
    const message = (await stores.slack.caseMessage(caseId))!;
    expect(message).toMatchObject({ channel: 'C0LINE2', kind: 'case' });
    const posted = slackApi.of('chat.postMessage').find((call) => call.args.channel === 'C0LINE2')!;
    expect(textOf(posted.args.blocks)).toContain('L-E2E');

    const stored = (await stores.drafts.latestStored(caseId))!;
    const value = JSON.stringify({ caseId, version: stored.draft.version, recordHash: stored.recordHash });
    await send(interaction(blockAction('UQUALITY', 'andon_approve', value, message)));
    await expect.poll(() => slackApi.of('views.open').length).toBe(1);
    const view = slackApi.of('views.open')[0]!.args.view as { private_metadata: string };
    const submitted = (await (
      await send(interaction(viewSubmission('UQUALITY', view.private_metadata, '')))
    ).json()) as {
      view: unknown;
    };
    const link = JSON.stringify(submitted.view).match(/http:\/\/andon\.test(\/slack\/sign\/[A-Za-z0-9_-]+)/)![1]!;
    const signed = await fetch(`${baseUrl}${link}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password: 'pw-quality' }),
    });
    expect(signed.status).toBe(200);

    const sent: string[] = [];
    const dispatcher = startDispatcher({
      outbox: stores.outbox,
      erp: {
        send: async (execution) => {
          sent.push(execution.type);
          return ok({ externalId: `ERP-${execution.type}`, replayed: false });
        },
      },
      autoStart: false,
      log: () => {},
    });
    await dispatcher.tick();
    await dispatcher.stop();
    expect(sent).toContain('lot_hold');
    expect((await stores.cases.get(caseId))?.status).toBe('closed');

    await slack.notifier.tick();
    const update = slackApi
      .of('chat.update')
      .filter((call) => call.args.ts === message.ts)
      .at(-1)!;
    const text = textOf(update.args.blocks);
    expect(text).toContain('Approved* by *Quinn Quality*');
    expect(text).toContain('case closed');
    expect(JSON.stringify(update.args.blocks)).not.toContain('andon_approve');
    const thread = textOf(
      slackApi
        .of('chat.postMessage')
        .filter((call) => call.args.thread_ts === message.ts)
        .map((call) => call.args.blocks),
    );
    expect(thread).toContain('Lot hold* executed');
    expect(thread).toContain('Case closed');
  });
});
