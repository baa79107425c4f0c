import type { EmbeddingPurpose, EmbeddingsPort } from './embed.ts';
import { hash32, stem, stopwords, tokenize } from './text.ts';

export interface OfflineEmbedderOptions {
  /** Vector length (default 512). Changing it changes the model id, so old vectors are not compared with new ones. */
  dimension?: number;
}

/** Weights of the three feature families; words carry the meaning, character n-grams catch spelling variants. */
const weights = { word: 1, number: 0.3, bigram: 0.4, char: 0.25 };

/**
 * An offline embedder for air-gapped plants: no weights, no network, deterministic.
 *
 * It is not a neural model. Each line of a text becomes a bag of features (stemmed content words, word bigrams, and
 * character 4-grams of each word) hashed into `dimension` signed buckets and weighted with sublinear term frequency
 * (1 + ln tf). Each line's vector is L2-normalised before the lines are summed (mean pooling), so a short line that
 * says what happened ("Reason: tablets failed dissolution") weighs as much as a long product description, and the sum
 * is L2-normalised again. Cosine similarity then approximates a weighted bag-of-words overlap. No IDF: the vectors do
 * not depend on the corpus, so adding documents never changes existing vectors. Named `andon-hash-ngram-v1` so nobody
 * mistakes it for a semantic model.
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
    // Codes and quantities (NDC numbers, lot numbers, "500 mg") rarely say what a text is about.
    add(`w:${term}`, /\d/.test(token) ? weights.number : weights.word);
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
  const line = new Float32Array(dimension);
  for (const segment of text.split('\n')) {
    if (segment.trim() === '') continue;
    line.fill(0);
    for (const [feature, { count, weight }] of offlineFeatures(segment)) {
      const hash = hash32(feature);
      const sign = hash32(feature, 0x9747b28c) & 1 ? 1 : -1;
      line[hash % dimension]! += sign * weight * (1 + Math.log(count));
    }
    normalise(line);
    for (let index = 0; index < dimension; index++) vector[index]! += line[index]!;
  }
  return normalise(vector);
}

function normalise(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let index = 0; index < vector.length; index++) vector[index]! *= scale;
  }
  return vector;
}
