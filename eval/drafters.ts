import { type CategoryProfile, createLlmDrafter, createOfflineDrafter, learnCategoryProfile } from '../agent/index.ts';
import { AndonError, type DrafterPort, type LlmPort } from '../core/index.ts';
import type { DocumentInput } from '../knowledge/index.ts';
import { categoryOf, eventOf } from './dataset.ts';

/**
 * The category profile of a knowledge base: term statistics of its labelled incidents (`metadata.category`), each
 * event (`metadata.event_id`) counted once. Null when no document carries a category.
 */
export function profileFromDocuments(documents: readonly DocumentInput[]): CategoryProfile | null {
  const examples = documents.flatMap((document) => {
    const metadata = document.metadata ?? {};
    const category = categoryOf(metadata);
    if (!category) return [];
    const group = eventOf(metadata, document.key ?? document.title);
    return [{ text: document.text, category, group }];
  });
  return examples.length === 0 ? null : learnCategoryProfile(examples);
}

/** The offline drafter as an eval runs it: the production drafter, with the profile learned from the eval's own KB. */
export function offlineDrafterFor(documents: readonly DocumentInput[]): DrafterPort {
  const profile = profileFromDocuments(documents);
  return createOfflineDrafter(profile ? { profile } : {});
}

/**
 * The drafter an eval runs: `offline` is the production offline drafter (with the profile learned from the eval's KB);
 * any other name is that model at the configured OpenAI-compatible endpoint, drafted by the production LLM drafter.
 * The composition root (app/) builds the LlmPort, so the eval's cassette and usage meter sit at its HTTP boundary.
 */
export function resolveDrafter(
  model: string,
  factories: { offline: () => DrafterPort; llm: ((model: string) => LlmPort) | null },
): DrafterPort {
  if (model === 'offline') return factories.offline();
  if (!factories.llm)
    throw new AndonError(
      'bad_request',
      `--model ${model} needs an OpenAI-compatible endpoint: set OPENAI_BASE_URL, or replay a recorded --cassette.`,
    );
  return createLlmDrafter(factories.llm(model));
}
