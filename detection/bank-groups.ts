/**
 * Multivariate monitors of the detector bank: groups of tags sampled together, each scored by its monitor (PCA T² and
 * SPE, or per-variable charts) once every one of its tags has a fresh reading.
 */
import type { Contribution } from '../core/index.ts';
import type { BankOptions } from './bank-settings.ts';
import type { GroupState } from './bank-state.ts';
import {
  createMonitorState,
  createMonitorStepper,
  type MonitorState,
  type MonitorStep,
  restoreMonitorState,
  snapshotMonitorState,
} from './monitor.ts';

/** A configured group with its monitor's stepper. */
export type Group = NonNullable<BankOptions['multivariate']>[number] & {
  stepper: ReturnType<typeof createMonitorStepper>;
};

/** A group's state while the bank runs (a snapshot holds it as `GroupState`). */
export type LiveGroupState = {
  monitor: MonitorState;
  /** The latest value of each tag of the group. */
  latest: Record<string, number>;
  /** Tags with a reading since the group was last scored. */
  fresh: Set<string>;
  active: boolean;
};

export const createGroups = (multivariate: NonNullable<BankOptions['multivariate']>): Group[] =>
  multivariate.map((group) => ({ ...group, stepper: createMonitorStepper(group.model) }));

/** The groups each tag belongs to. */
export function groupsByTag(groups: readonly Group[]): Map<string, Group[]> {
  const byTag = new Map<string, Group[]>();
  for (const group of groups)
    for (const tag of group.model.variables) byTag.set(tag, [...(byTag.get(tag) ?? []), group]);
  return byTag;
}

export const initialGroupStates = (groups: readonly Group[]): Map<string, LiveGroupState> =>
  new Map(
    groups.map((group) => [
      group.name,
      { monitor: createMonitorState(group.model), latest: {}, fresh: new Set<string>(), active: false },
    ]),
  );

export const snapshotGroupStates = (states: ReadonlyMap<string, LiveGroupState>): Record<string, GroupState> =>
  Object.fromEntries(
    [...states].map(([name, group]) => [
      name,
      {
        monitor: snapshotMonitorState(group.monitor),
        latest: { ...group.latest },
        fresh: [...group.fresh],
        active: group.active,
      },
    ]),
  );

export const restoreGroupStates = (groups: Readonly<Record<string, GroupState>>): Map<string, LiveGroupState> =>
  new Map(
    Object.entries(groups).map(([name, group]) => [
      name,
      {
        monitor: restoreMonitorState(group.monitor),
        latest: { ...group.latest },
        fresh: new Set(group.fresh),
        active: group.active,
      },
    ]),
  );

/**
 * Record a reading of `tag` in its group; once every tag of the group is fresh, score the row of their latest values and
 * return the monitor's step (its alarm state is kept in `state.active`), else null.
 */
export function stepGroup(group: Group, state: LiveGroupState, tag: string, value: number): MonitorStep | null {
  state.latest[tag] = value;
  state.fresh.add(tag);
  if (state.fresh.size < group.model.variables.length) return null;
  state.fresh.clear();
  const row = group.model.variables.map((name) => state.latest[name] ?? Number.NaN);
  const result = group.stepper(state.monitor, row);
  state.active = result.alarm;
  return result;
}

/** The tags' shares of a group's alarm, largest first, without those that contribute nothing. */
export const groupContributions = (group: Group, result: MonitorStep): Contribution[] =>
  group.model.variables
    .map((tag, j) => ({ tag, share: result.contributions[j] ?? 0 }))
    .filter((contribution) => contribution.share > 0)
    .sort((a, b) => b.share - a.share);
