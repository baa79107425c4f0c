import { describe, expect, it } from 'vitest';
import { cosine } from './embed.ts';
import { createOfflineEmbedder, embedOffline } from './embed-offline.ts';

describe('offline embedder', () => {
  const embedder = createOfflineEmbedder();

  it('is honestly named, fixed-size, deterministic and L2-normalised', async () => {
    expect(embedder.model).toBe('andon-hash-ngram-v1');
    const [a, b] = await embedder.embed(['Seal temperature drifting upward', 'Seal temperature drifting upward']);
    expect(a).toHaveLength(512);
    expect(a).toEqual(b);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    expect(Array.from(embedOffline('heater cartridge', 512))).toEqual(
      Array.from(embedOffline('heater cartridge', 512)),
    );
  });

  it('puts related wording closer than unrelated text', async () => {
    const [query, related, unrelated] = await embedder.embed([
      'seal temperature drifting upward',
      'The jaw temperature of the heat sealer drifts upward over several shifts',
      'Stop the monomer feed when the reactor pressure rises',
    ]);
    expect(cosine(query!, related!)).toBeGreaterThan(cosine(query!, unrelated!) + 0.1);
  });

  it('gives a zero vector for text without words and records a different model id per dimension', async () => {
    const [empty] = await embedder.embed(['  — ']);
    expect(empty!.every((value) => value === 0)).toBe(true);
    expect(createOfflineEmbedder({ dimension: 256 }).model).not.toBe(embedder.model);
  });
});
