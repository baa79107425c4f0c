/**
 * Case intake, pure: decides which annunciated alarms belong together, so that one fault becomes one case.
 *
 * A group (one case) is live while one of its alarms is still active, and for the grouping window after its last
 * activity. An alarm joins a live group when it
 * - is the same alarm again,
 * - belongs to the same flood (all alarms of a flood in one area form one case),
 * - sits on the same asset, or
 * - shares a tag with the group, counting the variables a multivariate deviation named together.
 * A group that has gone quiet takes back only the same alarm (a recurrence), while its case is open (by default with no
 * time limit, `reopenSeconds` sets one) and no other case has opened on its asset since: the same alarm coming back
 * rejoins its case until a person closes it, as mature alarm management tools do. The caller closes the group when its
 * case is closed, so that a recurrence then opens a new case.
 *
 * The live group comes first: an alarm that had a case before, coming back with a new situation on its asset (a line
 * upset an hour after a drift), joins the new situation's case, not the old one.
 */

export type IntakeParams = {
  /** How long after a group's last activity a related alarm still joins it. Default 30 min. */
  windowSeconds: number;
  /**
   * How long after a group's last activity the same alarm, coming back, still rejoins it. Default: no limit, the
   * recurrence rejoins its case while the case is open and no other case has opened on the asset since. A nuisance
   * alarm that comes back hourly is then one case holding each occurrence; a false-alarm disposition counts every
   * occurrence, and three yield a tuning proposal (see store/alarms.ts).
   */
  reopenSeconds: number;
};

export const DEFAULT_INTAKE_PARAMS: IntakeParams = { windowSeconds: 1800, reopenSeconds: Number.POSITIVE_INFINITY };

export type IntakeGroup = {
  id: string;
  asset: string | null;
  area: string | null;
  tags: string[];
  keys: string[];
  /** Keys of the group's alarms that are active (annunciated and not back to normal). Absent in older snapshots. */
  active?: string[];
  floodId: string | null;
  openedAt: string;
  lastActivity: string;
};

export type IntakeState = { groups: Record<string, IntakeGroup> };

export type IntakeAlarm = {
  key: string;
  tag: string;
  asset: string | null;
  area: string | null;
  time: string;
  /** Tags named together with the alarm (a multivariate deviation's contributions). */
  related?: readonly string[];
  floodId?: string | null;
};

export type IntakeDecision = {
  groupId: string;
  opened: boolean;
  /** Why the alarm joined the group; `recurrence` is the same alarm back after its group had gone quiet. */
  reason: 'same-alarm' | 'same-asset' | 'related-tags' | 'flood' | 'recurrence' | 'new';
};

export const initialIntakeState = (): IntakeState => ({ groups: {} });

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

/** Whether two groups are about the same place: the same asset, or, for tags without an asset, a shared tag. */
const sameScope = (a: IntakeGroup, b: IntakeGroup): boolean =>
  a.asset !== null || b.asset !== null ? a.asset === b.asset : a.tags.some((tag) => b.tags.includes(tag));

/**
 * Place one annunciated alarm in a group.
 *
 * @example
 * const { state, decision } = intakeAlarm(DEFAULT_INTAKE_PARAMS, initialIntakeState(), { key, tag, asset, area, time });
 * decision.opened; // true: open a case for decision.groupId
 */
export function intakeAlarm(
  params: IntakeParams,
  previous: IntakeState,
  alarm: IntakeAlarm,
): { state: IntakeState; decision: IntakeDecision } {
  const all = Object.values(previous.groups);
  const isLive = (group: IntakeGroup) =>
    (group.active?.length ?? 0) > 0 || seconds(group.lastActivity, alarm.time) <= params.windowSeconds;
  const reopen = params.reopenSeconds ?? DEFAULT_INTAKE_PARAMS.reopenSeconds;
  const isSuperseded = (group: IntakeGroup) =>
    all.some((other) => other !== group && other.openedAt > group.openedAt && sameScope(other, group));
  // a quiet group past its reopen time, or that a later group on its asset superseded, can take nothing any more
  const groups: Record<string, IntakeGroup> = {};
  for (const group of all)
    if (isLive(group) || (seconds(group.lastActivity, alarm.time) <= reopen && !isSuperseded(group)))
      groups[group.id] = group;
  const candidates = Object.values(groups).sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
  const live = candidates.filter(isLive);
  const tags = new Set([alarm.tag, ...(alarm.related ?? [])]);
  let match: IntakeGroup | undefined;
  let reason: IntakeDecision['reason'] = 'new';
  for (const [test, why] of [
    [(group: IntakeGroup) => group.keys.includes(alarm.key), 'same-alarm'],
    [(group: IntakeGroup) => alarm.floodId != null && group.floodId === alarm.floodId, 'flood'],
    [(group: IntakeGroup) => alarm.asset !== null && group.asset === alarm.asset, 'same-asset'],
    [(group: IntakeGroup) => group.tags.some((tag) => tags.has(tag)), 'related-tags'],
  ] as const) {
    match = live.find(test);
    if (match) {
      reason = why;
      break;
    }
  }
  if (!match) {
    match = candidates.find((group) => group.keys.includes(alarm.key));
    if (match) reason = 'recurrence';
  }
  if (!match) {
    const id = `${alarm.key}@${alarm.time}`;
    groups[id] = {
      id,
      asset: alarm.asset,
      area: alarm.area,
      tags: [...tags],
      keys: [alarm.key],
      active: [alarm.key],
      floodId: alarm.floodId ?? null,
      openedAt: alarm.time,
      lastActivity: alarm.time,
    };
    return { state: { groups }, decision: { groupId: id, opened: true, reason } };
  }
  const active = match.active ?? [];
  groups[match.id] = {
    ...match,
    tags: [...new Set([...match.tags, ...tags])],
    keys: match.keys.includes(alarm.key) ? match.keys : [...match.keys, alarm.key],
    active: active.includes(alarm.key) ? active : [...active, alarm.key],
    floodId: match.floodId ?? alarm.floodId ?? null,
    lastActivity: seconds(match.lastActivity, alarm.time) > 0 ? alarm.time : match.lastActivity,
  };
  return { state: { groups }, decision: { groupId: match.id, opened: false, reason } };
}

/** Mark a group's flood (a flood started in its area while it was open), so the flood's later alarms join it. */
export function markFlood(previous: IntakeState, area: string, floodId: string, keys: readonly string[]): IntakeState {
  const groups = { ...previous.groups };
  for (const group of Object.values(groups))
    if (group.area === area && group.floodId === null && group.keys.some((key) => keys.includes(key)))
      groups[group.id] = { ...group, floodId };
  return { groups };
}

/** Forget a group (its case was closed), so that the next related alarm opens a new case. */
export function closeGroup(previous: IntakeState, groupId: string): IntakeState {
  const { [groupId]: _closed, ...groups } = previous.groups;
  return { groups };
}

/**
 * Note activity of an alarm already in a group, so that the group stays live for the grouping window after its alarms
 * were last seen, not only after they were first raised: a repeat (`still: true`), or the alarm leaving the active
 * state (`still: false`: back to normal, shelved, suppressed or taken out of service), after which it no longer holds
 * its group open.
 */
export function touchGroup(previous: IntakeState, key: string, time: string, still = true): IntakeState {
  let groups = previous.groups;
  for (const group of Object.values(previous.groups)) {
    if (!group.keys.includes(key)) continue;
    const later = seconds(group.lastActivity, time) > 0;
    const active = still || !group.active?.includes(key) ? group.active : group.active.filter((k) => k !== key);
    if (later || active !== group.active)
      groups = {
        ...groups,
        [group.id]: {
          ...group,
          ...(active === undefined ? {} : { active }),
          lastActivity: later ? time : group.lastActivity,
        },
      };
  }
  return groups === previous.groups ? previous : { groups };
}
