/**
 * The alarm rules of a tag: one slot per `${detector}:${rule}`, with its keys built once per settings rather than per
 * reading, and the tag's alarm directions per slot, a typed mirror of the snapshot's `active` record so that a reading
 * that changes no rule's state reads or writes no record.
 */
import type { Resolved } from './bank-settings.ts';
import type { TagState } from './bank-state.ts';

/** One rule of one tag: the keys it is reported under and its slot in the tag's alarm directions. */
export type Rule = { detector: string; rule: string; activeKey: string; key: string; slot: number };

/** The rules of a tag under its current settings, with their keys built once rather than per reading. */
export type TagRules = {
  shewhart: readonly Rule[];
  xbarRange: Rule;
  xbar: readonly Rule[];
  ewma: Rule;
  cusum: Rule;
  pageHinkley: Rule;
  robustZ: Rule;
  flatline: Rule;
  rateOfChange: Rule;
  aboveSpecification: Rule;
  belowSpecification: Rule;
  badQuality: Rule;
  missingData: Rule;
};

/** Whether any rule of the tag is in alarm, without listing them. */
export function inAlarm(state: TagState): boolean {
  for (const _ in state.active) return true;
  return false;
}

/** The rules of a tag under `resolved`, and their alarm directions taken from the tag's `active` record. */
export function buildTagRules(
  tag: string,
  resolved: Resolved,
  active: Readonly<Record<string, -1 | 1>>,
): { rules: TagRules; directions: Int8Array } {
  const slots = new Map<string, Rule>();
  const rule = (detector: string, name: string): Rule => {
    const activeKey = `${detector}:${name}`;
    let found = slots.get(activeKey);
    if (!found) {
      found = { detector, rule: name, activeKey, key: `${tag}:${activeKey}`, slot: slots.size };
      slots.set(activeKey, found);
    }
    return found;
  };
  const rules: TagRules = {
    shewhart: (resolved.shewhart?.rules ?? []).map((name) => rule('shewhart', name)),
    xbarRange: rule('xbar-r', 'range'),
    xbar: (resolved.xbarR?.rules ?? []).map((name) => rule('xbar-r', name)),
    ewma: rule('ewma', 'limit'),
    cusum: rule('cusum', 'decision-interval'),
    pageHinkley: rule('page-hinkley', 'drift'),
    robustZ: rule('robust-z', 'median-mad'),
    flatline: rule('sensor-health', 'flatline'),
    rateOfChange: rule('sensor-health', 'rate-of-change'),
    aboveSpecification: rule('specification', 'above-specification'),
    belowSpecification: rule('specification', 'below-specification'),
    badQuality: rule('sensor-health', 'bad-quality'),
    missingData: rule('sensor-health', 'missing-data'),
  };
  const directions = new Int8Array(slots.size);
  for (const found of slots.values()) directions[found.slot] = active[found.activeKey] ?? 0;
  return { rules, directions };
}

/** A tag's alarm state: its directions per rule slot and the snapshot's record they mirror. */
export type RuleSlots = { directions: Int8Array; state: { active: Record<string, -1 | 1> } };

/**
 * Record the rule's alarm state in `state.active` (keyed `${detector}:${rule}`); true when it has just gone into alarm
 * (or flipped side). A rule that stays where it was touches nothing.
 */
export function enterRule(tag: RuleSlots, rule: Rule, direction: -1 | 0 | 1): boolean {
  if (tag.directions[rule.slot] === direction) return false;
  tag.directions[rule.slot] = direction;
  if (direction === 0) {
    delete tag.state.active[rule.activeKey];
    return false;
  }
  tag.state.active[rule.activeKey] = direction;
  return true;
}
