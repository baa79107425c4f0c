import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLlmDrafter } from '../agent/index.ts';
import { createOpenAiLlm } from '../connectors/llm/index.ts';
import type { Draft, DraftInput } from '../core/index.ts';
import { openCassette } from './cassette.ts';
import { createLlmJudge } from './judge.ts';
import { createUsageMeter } from './usage.ts';

const BASE = 'http://llm.test/v1';
const server = setupServer();
let calls = 0;
let directory: string;
beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  directory = await mkdtemp(join(tmpdir(), 'andon-cassette-'));
});
afterEach(() => {
  server.resetHandlers();
  calls = 0;
});
afterAll(async () => {
  server.close();
  await rm(directory, { recursive: true, force: true });
});

const completion = (content: unknown) => {
  calls++;
  return HttpResponse.json({
    id: `chatcmpl-${calls}`,
    object: 'chat.completion',
    created: 1,
    model: 'test-model',
    choices: [
      {
        index: 0,
        finish_reason: 'stop',
        message: { role: 'assistant', content: typeof content === 'string' ? content : JSON.stringify(content) },
      },
    ],
    usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
  });
};

const ask = (fetch: typeof globalThis.fetch, prompt: string) =>
  new OpenAI({ baseURL: BASE, apiKey: 'sk-secret', fetch, maxRetries: 0 }).chat.completions.create({
    model: 'test-model',
    temperature: 0,
    messages: [{ role: 'user', content: prompt }],
  });

describe('cassettes of LLM HTTP exchanges', () => {
  it('records through the OpenAI client, then replays without the network; a changed prompt is a miss', async () => {
    server.use(http.post(`${BASE}/chat/completions`, () => completion('recorded answer')));
    const path = join(directory, 'basic.cassette.json');
    const recorder = await openCassette(path, 'record');
    const recorded = await ask(recorder.fetch, 'What caused the seal drift?');
    expect(recorded.choices[0]?.message.content).toBe('recorded answer');
    await recorder.save();
    expect(calls).toBe(1);
    const file = await readFile(path, 'utf8');
    expect(file).toContain('What caused the seal drift?');
    expect(file).not.toContain('sk-secret');

    server.use(http.post(`${BASE}/chat/completions`, () => HttpResponse.error()));
    const player = await openCassette(path, 'replay');
    const replayed = await ask(player.fetch, 'What caused the seal drift?');
    expect(replayed.choices[0]?.message.content).toBe('recorded answer');
    expect(player.stats()).toEqual({ hits: 1, misses: 0, recorded: 0 });
    await expect(ask(player.fetch, 'What caused the seal drift? Think step by step.')).rejects.toThrow(
      /Cassette miss .*The prompt or a parameter changed/,
    );
    expect(player.stats().misses).toBe(1);
    expect(calls).toBe(1);
  });

  it('refuses to replay a cassette that was never recorded', async () => {
    await expect(openCassette(join(directory, 'missing.json'), 'replay')).rejects.toThrow(/record it first/);
  });

  it('counts tokens per case even when cases run concurrently', async () => {
    server.use(http.post(`${BASE}/chat/completions`, () => completion('ok')));
    const meter = createUsageMeter();
    const metered = meter.wrap(fetch) as typeof globalThis.fetch;
    const [one, two] = await Promise.all([
      meter.measure(async () => {
        await ask(metered, 'a');
        await ask(metered, 'b');
      }),
      meter.measure(() => ask(metered, 'c')),
    ]);
    expect(one.usage).toEqual({ prompt: 2000, completion: 400, requests: 2 });
    expect(two.usage).toEqual({ prompt: 1000, completion: 200, requests: 1 });
    expect(meter.total().prompt).toBe(3000);
  });

  it('plugs into the production LLM drafter: a recorded draft replays identically in CI', async () => {
    const answer = {
      summary: 'Seal drift.',
      hypotheses: [
        {
          statement: 'Heater wear',
          category: 'Machine',
          confidence: 0.8,
          evidence_for: ['drift'],
          evidence_against: [],
          citations: [{ passage: 'P1', quote: 'Hold all lots produced since the drift began.' }],
        },
      ],
      capa: {
        team: ['Quality lead'],
        problem: 'Drift',
        containment: [{ text: 'Hold the lot', owner: null, due_in_days: 0, citations: [] }],
        root_cause: [{ text: 'Check the heater', owner: null, due_in_days: 3, citations: [] }],
        corrective: [{ text: 'Replace the heater', owner: null, due_in_days: 7, citations: [] }],
        preventive: [{ text: 'Inspect monthly', owner: null, due_in_days: 30, citations: [] }],
        effectiveness: [{ text: 'Watch 14 days', owner: null, due_in_days: null, citations: [] }],
      },
      actions: [],
    };
    server.use(http.post(`${BASE}/chat/completions`, () => completion(answer)));
    const input: DraftInput = {
      case: {
        id: 'CASE-1',
        title: 'seal temperature drift',
        description: 'Seal temperature drifts upward on line 1.',
        status: 'triaging',
        severity: 'medium',
        area: null,
        tags: [],
        context: {},
        deviationIds: [],
        threadId: 'case:CASE-1',
        createdAt: '2026-11-25T10:00:00.000Z',
        updatedAt: '2026-11-25T10:00:00.000Z',
      },
      deviations: [],
      evidence: {
        query: 'seal temperature drift',
        signals: [],
        sops: [
          {
            citation: { chunkId: 'c1', documentId: 'd1', title: 'SOP', quote: '' },
            text: 'Hold all lots produced since the drift began.',
            score: 1,
            kind: 'sop',
            metadata: {},
          },
        ],
        incidents: [],
      },
      version: 1,
      taxonomy: ['Machine', 'Measurement'],
      today: '2026-11-25',
    };
    const path = join(directory, 'drafter.cassette.json');
    const draftWith = async (mode: 'record' | 'replay', change = '') => {
      const cassette = await openCassette(path, mode);
      const drafter = createLlmDrafter(
        createOpenAiLlm({ baseUrl: BASE, model: 'test-model', maxRetries: 0, fetch: cassette.fetch as typeof fetch }),
      );
      try {
        return await drafter.draft({ ...input, case: { ...input.case, description: input.case.description + change } });
      } finally {
        await cassette.save();
      }
    };
    const recorded = await draftWith('record');
    server.use(http.post(`${BASE}/chat/completions`, () => HttpResponse.error()));
    const replayed = await draftWith('replay');
    const stable = (draft: Draft) => ({ ...draft, createdAt: '' });
    expect(stable(replayed)).toEqual(stable(recorded));
    expect(replayed.hypotheses[0]?.category).toBe('Machine');
    await expect(draftWith('replay', ' It also squeaks.')).rejects.toThrow(/Cassette miss/);
  });

  it('caches the judge’s verdicts under a versioned prompt', async () => {
    server.use(
      http.post(`${BASE}/chat/completions`, () => completion({ grounded: 0.8, reason: 'two of the items cite' })),
    );
    const judge = createLlmJudge({ baseURL: BASE, model: 'judge-model', cachePath: join(directory, 'judge.json') });
    const draft = {
      capa: {
        team: [],
        problem: 'p',
        containment: [{ text: 'Hold', owner: null, due: null, citations: [] }],
        rootCause: [],
        corrective: [],
        preventive: [],
        effectiveness: [],
      },
    } as unknown as Draft;
    const evidence = { query: '', signals: [], sops: [], incidents: [] };
    expect(await judge.groundedness(draft, evidence)).toEqual({
      grounded: 0.8,
      reason: 'two of the items cite',
      cached: false,
    });
    expect(await judge.groundedness(draft, evidence)).toMatchObject({ grounded: 0.8, cached: true });
    expect(calls).toBe(1);
    expect(judge.promptVersion).toMatch(/capa-groundedness\/v\d+/);
  });
});
