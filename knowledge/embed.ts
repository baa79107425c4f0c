import { AndonError } from '../core/index.ts';

/** Documents and queries may be embedded differently (asymmetric models); symmetric models ignore it. */
export type EmbeddingPurpose = 'document' | 'query';

/**
 * The embeddings port. Every vector is stored with `model` and `dimension`, and a search only compares vectors of the
 * same model, so vectors of different models never mix.
 */
export interface EmbeddingsPort {
  /** Model id recorded with every vector, e.g. `andon-hash-ngram-v1` or `text-embedding-3-small`. */
  readonly model: string;
  readonly dimension: number;
  /** Embed a batch of texts; the result has one vector of length `dimension` per text, in order. */
  embed(texts: readonly string[], purpose?: EmbeddingPurpose): Promise<number[][]>;
}

/** Model ids end up in an index predicate; keep them to a safe alphabet. */
export const modelIdPattern = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

/** Check that an embedder's identity can be stored and indexed. */
export function assertEmbedder(embedder: EmbeddingsPort): void {
  if (!modelIdPattern.test(embedder.model)) {
    throw new AndonError(
      'invalid_config',
      `Embedding model id "${embedder.model}" has characters andon cannot index; use letters, digits and . _ : / @ + -`,
    );
  }
  if (!Number.isInteger(embedder.dimension) || embedder.dimension < 1 || embedder.dimension > 4000) {
    throw new AndonError(
      'invalid_config',
      `Embedding dimension ${embedder.dimension} of ${embedder.model} is outside 1–4000 (the pgvector HNSW limit for half-precision vectors); ask the endpoint for fewer dimensions.`,
    );
  }
}

/** pgvector's text form of a vector. */
export function toVectorLiteral(vector: readonly number[]): string {
  let out = '[';
  for (let index = 0; index < vector.length; index++) {
    if (index > 0) out += ',';
    const value = vector[index]!;
    out += Number.isFinite(value) ? String(Math.round(value * 1e7) / 1e7) : '0';
  }
  return `${out}]`;
}

/** Cosine similarity of two equal-length vectors. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let index = 0; index < a.length; index++) {
    const x = a[index]!;
    const y = b[index] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
