import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeCompletion, openAiReply } from '../agent/__fixtures__/openai.ts';
import { createOfflineDrafter } from '../agent/index.ts';
import type { Deviation, KnowledgePort } from '../core/index.ts';
import { createTriage } from '../graph/index.ts';
import { createServer } from '../server/index.ts';
import { createStores, type Database, openDatabase, type StoreSet } from '../store/index.ts';
import { createChatFromConfig } from './chat.ts';
import { loadConfig } from './config.ts';

const BASE = 'http://llm.chat-test/v1';
const openai = setupServer();
const clock = { now: () => new Date() };
const TEXT = 'Hold all lots produced since the seal temperature began to drift.';
const knowledge: KnowledgePort = {
  async search() {
    return [
      {
        citation: { chunkId: 'k1', documentId: 'SOP-7', title: 'SOP-7 Heat sealer', section: '§ 4', quote: TEXT },
        text: TEXT,
        score: 0.9,
        kind: 'sop',
        metadata: {},
      },
    ];
  },
};

let database: Database;
let baseUrl: string;
let close: () => Promise<void>;
let stores: StoreSet;
const tokens: Record<string, string> = {};
let caseId: string;
let replies: FakeCompletion[] = [];
const editCall: FakeCompletion = {
  toolCalls: [
    {
      name: 'propose_draft_edit',
      arguments: '{"summary":"Replace the thermocouple, then hold the lot.","comment":"from chat"}',
    },
  ],
  usage: { prompt_tokens: 50, completion_tokens: 10 },
};
const say = (content: string): FakeCompletion => ({ content, usage: { prompt_tokens: 50, completion_tokens: 10 } });

const ask = (user: string | null, body: unknown, id = caseId) =>
  fetch(`${baseUrl}/api/v1/cases/${id}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(user ? { authorization: `Bearer ${tokens[user]}` } : {}) },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  openai.listen({ onUnhandledRequest: 'bypass' });
  openai.use(
    http.post(`${BASE}/chat/completions`, async ({ request }) =>
      openAiReply((await request.json()) as { stream?: boolean }, replies.shift() ?? say('No more scripted replies.')),
    ),
  );
  database = await openDatabase({ dataDir: 'memory://app-chat-test' });
  stores = createStores(database, clock);
  await new PostgresSaver(database.pool).setup();
  for (const [username, roles] of [
    ['supervisor', ['supervisor']],
    ['operator', ['operator']],
  ] as const) {
    const user = await stores.users.create({
      username,
      displayName: username,
      roles: [...roles],
      password: `pw-${username}`,
    });
    tokens[username] = await stores.users.createToken(user.id, 'test', [...roles]);
  }
  const triage = createTriage(
    { ...stores, knowledge, signals: stores.readings, drafter: createOfflineDrafter(), clock },
    new PostgresSaver(database.pool),
  );
  const deviation: Deviation = {
    id: 'chat-dev-1',
    tag: 'line1.seal_temperature',
    detector: 'ewma',
    rule: 'upper',
    severity: 'high',
    detectedAt: new Date().toISOString(),
    value: 182,
    statistic: 181,
    limits: { lower: 179, center: 180, upper: 181 },
    message: 'seal temperature drifting high',
    window: [],
    contributions: [],
  };
  caseId = (await stores.cases.recordDeviation(deviation, { lot: 'L-1' })).caseId;
  await triage.start(caseId);
  const config = loadConfig({
    OPENAI_BASE_URL: BASE,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_MODEL: 'gpt-test',
    OPENAI_MAX_RETRIES: '0',
  });
  const chat = createChatFromConfig(config, { ...stores, knowledge, triage });
  const server = createServer({
    ...stores,
    triage,
    chat,
    publicUrl: 'http://andon.test',
    sessionTtlHours: 1,
    secureCookies: false,
    log: () => {},
  });
  const instance = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: server.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  baseUrl = `http://127.0.0.1:${(instance.address() as AddressInfo).port}`;
  close = () => new Promise((resolve) => instance.close(() => resolve()));
});
afterAll(async () => {
  await close?.();
  await database?.close();
  openai.close();
});

describe('POST /api/v1/cases/:id/chat', () => {
  it('needs a signed-in user, a question and a case that exists', async () => {
    expect((await ask(null, { question: 'why?' })).status).toBe(401);
    const empty = await ask('supervisor', { question: '   ' });
    expect(empty.status).toBe(400);
    expect(JSON.stringify(await empty.json())).toMatch(/question/);
    expect((await ask('supervisor', { question: 'why?', approve: true })).status).toBe(400);
    expect((await ask('supervisor', { question: 'why?' }, 'CASE-nope')).status).toBe(404);
  });

  it('answers with verified citations and records the answer in the audit log', async () => {
    replies = [
      {
        toolCalls: [{ name: 'search_knowledge', arguments: '{"query":"containment"}' }],
        usage: { prompt_tokens: 50, completion_tokens: 10 },
      },
      say(`Per the SOP: [S1: "${TEXT}"]`),
    ];
    const response = await ask('supervisor', { question: 'What does the SOP say about containment?' });
    expect(response.status).toBe(200);
    const { answer } = (await response.json()) as {
      answer: { text: string; citations: Array<{ chunkId: string }>; mode: string };
    };
    expect(answer).toMatchObject({ mode: 'llm', text: `Per the SOP: “${TEXT}” [1]` });
    expect(answer.citations[0]?.chunkId).toBe('k1');
    const entry = (await stores.audit.listForCase(caseId)).find((item) => item.action === 'chat.answered');
    expect(entry?.details).toMatchObject({
      channel: 'web',
      mode: 'llm',
      citations: ['k1'],
      usage: { calls: 2, inputTokens: 100 },
    });
  });

  it('an edit the agent proposes becomes a new draft version by the asker, waiting for someone else’s signature', async () => {
    replies = [editCall, say('Saved as v2; someone else must sign it.')];
    const response = await ask('supervisor', { question: 'Make the summary say: replace the thermocouple first.' });
    const { answer } = (await response.json()) as { answer: { proposedEdit: { version: number } | null } };
    expect(answer.proposedEdit).toEqual({ version: 2 });
    const latest = await stores.drafts.latest(caseId);
    expect(latest).toMatchObject({
      version: 2,
      source: 'human',
      summary: 'Replace the thermocouple, then hold the lot.',
    });
    expect(await stores.approvals.forCase(caseId)).toEqual([]);
    expect(await stores.outbox.forCase(caseId)).toEqual([]);

    replies = [editCall, say('I could not save that.')];
    const refused = await ask('operator', { question: 'Change the summary.' });
    const body = (await refused.json()) as { answer: { proposedEdit: unknown } };
    expect(body.answer.proposedEdit).toBeNull();
    expect((await stores.drafts.latest(caseId))?.version).toBe(2);
  });
});
