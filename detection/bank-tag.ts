/** A tag as the detector bank runs it: its snapshot state and the caches built from its settings and model. */
import { type Derived, deriveParameters } from './bank-parameters.ts';
import type { TagRules } from './bank-rules.ts';
import type { Resolved } from './bank-settings.ts';
import type { TagModel, TagState } from './bank-state.ts';
import type { Evidence } from './evidence-ring.ts';
import type { SortedWindow } from './robust-z.ts';

/**
 * A tag of the bank: its snapshot state (whose `window` stays empty; the evidence lives in `evidence`) and caches that
 * are rebuilt when its settings change (`configure`) or its state is replaced (`restore`).
 */
export type Tag = {
  name: string;
  state: TagState;
  evidence: Evidence;
  resolved: Resolved | null;
  rules: TagRules | null;
  /** Alarm direction per rule slot, mirroring `state.active` so that a reading that changes nothing reads no record. */
  directions: Int8Array;
  derived: Derived | null;
  /** The robust-z window in order, for its median and MAD. */
  sortedWindow: SortedWindow;
};

/** The tag's detector parameters under `model` and `resolved`, derived again only when either has changed. */
export function derivedOf(tag: Tag, model: TagModel, resolved: Resolved): Derived {
  const derived = tag.derived;
  if (derived !== null && derived.model === model && derived.resolved === resolved) return derived;
  tag.derived = deriveParameters(model, resolved);
  return tag.derived;
}
