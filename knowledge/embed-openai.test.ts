import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIEmbedder } from './embed-openai.ts';

const baseURL = 'http://embeddings.test/v1';
const requests: { model: string; input: string[]; dimensions?: number; authorization: string | null }[] = [];
const server = setupServer(
  http.post(`${baseURL}/embeddings`, async ({ request }) => {
    const body = (await request.json()) as { model: string; input: string[]; dimensions?: number };
    requests.push({ ...body, authorization: request.headers.get('authorization') });
    const dimension = body.dimensions ?? (body.model === 'broken' ? 3 : 4);
    // Out of order on purpose: the client must sort by index.
    const data = body.input
      .map((text, index) => ({
        object: 'embedding',
        index,
        embedding: Array.from({ length: dimension }, (_, i) => text.length + i),
      }))
      .reverse();
    return HttpResponse.json({ object: 'list', data, model: body.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  requests.length = 0;
});
afterAll(() => server.close());

describe('OpenAI-compatible embedder', () => {
  it('records the model and dimension, batches, and keeps input order', async () => {
    const embedder = createOpenAIEmbedder({
      baseURL,
      apiKey: 'sk-test',
      model: 'nomic-embed-text',
      dimension: 4,
      batchSize: 2,
    });
    expect(embedder.model).toBe('openai:nomic-embed-text');
    expect(embedder.dimension).toBe(4);
    const vectors = await embedder.embed(['a', 'bb', 'ccc']);
    expect(vectors).toEqual([
      [1, 2, 3, 4],
      [2, 3, 4, 5],
      [3, 4, 5, 6],
    ]);
    expect(requests.map((request) => request.input)).toEqual([['a', 'bb'], ['ccc']]);
    expect(requests[0]?.authorization).toBe('Bearer sk-test');
  });

  it('asks a text-embedding-3 model for shortened vectors and names them apart', async () => {
    const embedder = createOpenAIEmbedder({ baseURL, model: 'text-embedding-3-small', dimension: 8 });
    expect(embedder.model).toBe('openai:text-embedding-3-small@8');
    const [vector] = await embedder.embed(['seal']);
    expect(vector).toHaveLength(8);
    expect(requests[0]?.dimensions).toBe(8);
  });

  it('refuses vectors of the wrong length with a message that says what to set', async () => {
    const embedder = createOpenAIEmbedder({ baseURL, model: 'broken', dimension: 4, maxRetries: 0 });
    await expect(embedder.embed(['x'])).rejects.toThrow(/length 3, expected 4/);
  });

  it('needs a dimension for a model it does not know', () => {
    expect(() => createOpenAIEmbedder({ baseURL, model: 'mystery-embed' })).toThrow(/dimension/);
  });
});
