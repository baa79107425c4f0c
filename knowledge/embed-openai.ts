import OpenAI from 'openai';
import { z } from 'zod';
import { AndonError } from '../core/index.ts';
import type { EmbeddingPurpose, EmbeddingsPort } from './embed.ts';

export interface OpenAIEmbedderOptions {
  /** OpenAI-compatible endpoint, e.g. https://api.openai.com/v1 or http://ollama:11434/v1. */
  baseURL?: string;
  apiKey?: string;
  /** Model name at the endpoint, e.g. `text-embedding-3-small`. */
  model: string;
  /**
   * Vector length. Known OpenAI models have a default; for others it is required. When it is less than the model's
   * native size it is sent as `dimensions` (text-embedding-3 models shorten their vectors on request).
   */
  dimension?: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Sent as `dimensions` only when the endpoint supports it (default: when `dimension` differs from the native size). */
  sendDimensions?: boolean;
  /** A custom fetch (tests, proxies). */
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxRetries?: number;
}

const nativeDimensions: Record<string, number> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

const EmbeddingResponse = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

/**
 * Embeddings from an OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio…).
 * The model id recorded with each vector is `openai:<model>`, plus `@<dimension>` when shortened.
 *
 * @example
 * const embedder = createOpenAIEmbedder({ baseURL: 'http://localhost:11434/v1', model: 'nomic-embed-text', dimension: 768 });
 */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): EmbeddingsPort {
  const native = nativeDimensions[options.model];
  const dimension = options.dimension ?? native;
  if (dimension === undefined) {
    throw new AndonError(
      'invalid_config',
      `The dimension of embedding model "${options.model}" is unknown; pass its vector length (e.g. 768 for nomic-embed-text).`,
    );
  }
  const sendDimensions = options.sendDimensions ?? (native !== undefined && dimension !== native);
  const model = `openai:${options.model}${sendDimensions ? `@${dimension}` : ''}`;
  const client = new OpenAI({
    apiKey: options.apiKey ?? 'not-needed',
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 3,
  });
  const batchSize = options.batchSize ?? 64;

  return {
    model,
    dimension,
    async embed(texts: readonly string[], _purpose?: EmbeddingPurpose) {
      const vectors: number[][] = [];
      for (let from = 0; from < texts.length; from += batchSize) {
        const input = texts.slice(from, from + batchSize).map((text) => (text.trim() === '' ? ' ' : text));
        let raw: unknown;
        try {
          raw = await client.embeddings.create({
            model: options.model,
            input,
            encoding_format: 'float',
            ...(sendDimensions ? { dimensions: dimension } : {}),
          });
        } catch (cause) {
          const status = (cause as { status?: number }).status;
          throw new AndonError(
            status === 429 ? 'rate_limited' : status === 401 || status === 403 ? 'unauthenticated' : 'unavailable',
            `The embeddings endpoint ${options.baseURL ?? 'api.openai.com'} failed for model ${options.model}: ${(cause as Error).message}. Check OPENAI_BASE_URL, OPENAI_API_KEY and the model name.`,
            { retryable: status === undefined || status === 429 || status >= 500, cause },
          );
        }
        const parsed = EmbeddingResponse.safeParse(raw);
        if (!parsed.success || parsed.data.data.length !== input.length) {
          throw new AndonError(
            'invalid_payload',
            `The embeddings endpoint returned an unexpected response for ${input.length} texts (model ${options.model}); is it OpenAI-compatible?`,
          );
        }
        const ordered = [...parsed.data.data].sort((a, b) => a.index - b.index);
        for (const item of ordered) {
          if (item.embedding.length !== dimension) {
            throw new AndonError(
              'invalid_payload',
              `Model ${options.model} returned vectors of length ${item.embedding.length}, expected ${dimension}; set the embedding dimension to ${item.embedding.length}.`,
            );
          }
          vectors.push(item.embedding);
        }
      }
      return vectors;
    },
  };
}
