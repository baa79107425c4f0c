import type { EmbeddingsPort } from './embed.ts';
import { createOfflineEmbedder } from './embed-offline.ts';
import { createOpenAIEmbedder } from './embed-openai.ts';

/** What the composition root knows about embeddings (EMBEDDINGS_* variables). */
export interface EmbedderSettings {
  /** OpenAI-compatible endpoint; unset means the offline embedder. */
  baseURL?: string | undefined;
  apiKey?: string | undefined;
  /** Model at the endpoint (default `text-embedding-3-small`). Ignored by the offline embedder. */
  model?: string | undefined;
  /** Vector length: the endpoint's (required for unknown models), or the offline embedder's (default 512). */
  dimension?: number | undefined;
  /** A custom fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/**
 * The embedder the settings ask for: the OpenAI-compatible endpoint when a base URL is given, else the offline
 * embedder. Either way the model id and dimension are recorded on every vector, so switching is safe: search compares
 * only vectors of the current model, and `kb reembed` migrates the rest.
 *
 * @example
 * createEmbedder({ baseURL: config.EMBEDDINGS_BASE_URL, apiKey: config.EMBEDDINGS_API_KEY ?? config.OPENAI_API_KEY,
 *   model: config.EMBEDDINGS_MODEL, dimension: config.EMBEDDINGS_DIMENSIONS });
 */
export function createEmbedder(settings: EmbedderSettings = {}): EmbeddingsPort {
  if (!settings.baseURL) {
    return createOfflineEmbedder(settings.dimension === undefined ? {} : { dimension: settings.dimension });
  }
  return createOpenAIEmbedder({
    baseURL: settings.baseURL,
    model: settings.model ?? 'text-embedding-3-small',
    ...(settings.apiKey === undefined ? {} : { apiKey: settings.apiKey }),
    ...(settings.dimension === undefined ? {} : { dimension: settings.dimension }),
    ...(settings.fetch === undefined ? {} : { fetch: settings.fetch }),
  });
}
