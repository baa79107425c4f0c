import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../store/index.ts';
import { loadDemoKnowledge } from './demo.ts';
import { embedOffline } from './embed-offline.ts';
import { createEmbedder } from './embedder.ts';
import { createKnowledgeBase, type KnowledgeAuditEvent } from './knowledge-base.ts';

// A stand-in for an OpenAI-compatible embeddings endpoint. Its vectors come from a real (if simple) embedding of the
// text, so searches over them find what they should.
const baseURL = 'http://embeddings.test/v1';
const requests: { model: string; inputs: number; authorization: string | null }[] = [];
const server = setupServer(
  http.post(`${baseURL}/embeddings`, async ({ request }) => {
    const body = (await request.json()) as { model: string; input: string[]; dimensions?: number };
    requests.push({
      model: body.model,
      inputs: body.input.length,
      authorization: request.headers.get('authorization'),
    });
    const data = body.input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from(embedOffline(`${text} ${body.model}`, 96)),
    }));
    return HttpResponse.json({ object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
  }),
);

describe('kb reembed from the offline embedder to an OpenAI-compatible endpoint', () => {
  let db: Database;
  const audit: KnowledgeAuditEvent[] = [];

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    db = await openDatabase({ dataDir: 'memory://' });
    const offline = createKnowledgeBase(db, createEmbedder());
    expect((await loadDemoKnowledge(offline)).documents).toBe(3);
  });
  afterAll(async () => {
    server.close();
    await db?.close();
  });

  it('migrates every vector, records model and dimension, and never compares vectors across models', async () => {
    // Created after msw listens: the OpenAI client keeps the fetch it finds at construction.
    const endpoint = createEmbedder({ baseURL, apiKey: 'sk-test', model: 'fake-embed', dimension: 96 });
    expect(endpoint).toMatchObject({ model: 'openai:fake-embed', dimension: 96 });
    const kb = createKnowledgeBase(db, endpoint, { onAudit: (event) => void audit.push(event) });
    const before = await kb.stats();
    expect(before.models).toEqual([{ model: 'andon-hash-ngram-v1', chunks: before.chunks }]);
    // Before the migration the endpoint's model has no vectors: vector search finds nothing rather than mixing models.
    expect(await kb.search('seal temperature drifting upward', { mode: 'vector' })).toEqual([]);

    const result = await kb.reembed('qa.lead');
    expect(result).toEqual({
      chunks: before.chunks,
      from: { 'andon-hash-ngram-v1': before.chunks },
      to: 'openai:fake-embed',
    });
    expect(
      requests.every((request) => request.model === 'fake-embed' && request.authorization === 'Bearer sk-test'),
    ).toBe(true);
    expect(requests.reduce((sum, request) => sum + request.inputs, 0)).toBe(before.chunks + 1);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'knowledge.reembed',
        actor: 'qa.lead',
        subject: 'embedding_model:openai:fake-embed',
      }),
    ]);
    expect((await kb.stats()).models).toEqual([{ model: 'openai:fake-embed', chunks: before.chunks }]);
    const registered = await db.query<{ model: string; dimension: number }>(
      'select model, dimension from knowledge_embedding_models order by model',
    );
    expect(registered.rows).toEqual([
      { model: 'andon-hash-ngram-v1', dimension: 512 },
      { model: 'openai:fake-embed', dimension: 96 },
    ]);

    const [hit] = await kb.search('seal temperature drifting upward', { mode: 'vector' });
    expect(hit?.documentNumber).toBe('TS-PK-004');
    // The offline model's vectors are gone, so its vector search finds nothing; its full text still works.
    const offline = createKnowledgeBase(db, createEmbedder());
    expect(await offline.search('seal temperature', { mode: 'vector' })).toEqual([]);
    expect((await offline.search('seal temperature', { mode: 'fulltext' })).length).toBeGreaterThan(0);

    // Nothing left to migrate: no endpoint calls, no audit event.
    requests.length = 0;
    expect((await kb.reembed('qa.lead')).chunks).toBe(0);
    expect(requests).toEqual([]);
    expect(audit).toHaveLength(1);
  });
});
