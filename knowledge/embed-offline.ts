import type { EmbeddingPurpose, EmbeddingsPort } from './embed.ts';
import { hash32, stem, stopwords, tokenize } from './text.ts';

export interface OfflineEmbedderOptions {
  /** Vector length (default 512). Changing it changes the model id, so old vectors are not compared with new ones. */
  dimension?: number;
}

/** Weights of the three feature families; words carry the meaning, character n-grams catch spelling variants. */
const weights = { word: 1, bigram: 0.6, char: 0.25 };

/**
 * An offline embedder for air-gapped plants: no weights, no network, deterministic.
 *
 * It is not a neural model. Each text becomes a bag of features (stemmed content words, word bigrams, and character
 * 4-grams of each word) hashed into `dimension` signed buckets, weighted with sublinear term frequency (1 + ln tf) and
 * L2-normalised, so cosine similarity approximates a TF weighted bag-of-words overlap. Named `andon-hash-ngram-v1` so
 * nobody mistakes it for a semantic model.
 *
 * @example
 * const embedder = createOfflineEmbedder();
 * const [vector] = await embedder.embed(['seal temperature drifting upward']);
 */
export function createOfflineEmbedder(options: OfflineEmbedderOptions = {}): EmbeddingsPort {
  const dimension = options.dimension ?? 512;
  const model = dimension === 512 ? 'andon-hash-ngram-v1' : `andon-hash-ngram-v1-d${dimension}`;
  return {
    model,
    dimension,
    async embed(texts: readonly string[], _purpose?: EmbeddingPurpose) {
      return texts.map((text) => Array.from(embedOffline(text, dimension)));
    },
  };
}

/** Feature counts of a text: the reference, readable form of what the embedder hashes. */
export function offlineFeatures(text: string): Map<string, { count: number; weight: number }> {
  const features = new Map<string, { count: number; weight: number }>();
  const add = (feature: string, weight: number) => {
    const entry = features.get(feature);
    if (entry) entry.count++;
    else features.set(feature, { count: 1, weight });
  };
  let previous: string | undefined;
  for (const token of tokenize(text)) {
    if (stopwords.has(token) || token.length < 2) {
      previous = undefined;
      continue;
    }
    const term = stem(token);
    add(`w:${term}`, weights.word);
    if (previous !== undefined) add(`b:${previous} ${term}`, weights.bigram);
    previous = term;
    if (token.length >= 4 && !/^\d+$/.test(token)) {
      const padded = `<${token}>`;
      for (let index = 0; index + 4 <= padded.length; index++) add(`c:${padded.slice(index, index + 4)}`, weights.char);
    }
  }
  return features;
}

/** Embed one text into a Float32Array of length `dimension`, L2-normalised (all zeros for a text with no features). */
export function embedOffline(text: string, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (const [feature, { count, weight }] of offlineFeatures(text)) {
    const hash = hash32(feature);
    const bucket = hash % dimension;
    const sign = hash32(feature, 0x9747b28c) & 1 ? 1 : -1;
    vector[bucket]! += sign * weight * (1 + Math.log(count));
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let index = 0; index < dimension; index++) vector[index]! *= scale;
  }
  return vector;
}
