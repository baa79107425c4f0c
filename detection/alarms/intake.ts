/**
 * Case intake, pure: decides which annunciated alarms belong together, so that one fault becomes one case. An alarm
 * joins an open group when, within the grouping window since the group's last alarm, it
 * - is the same alarm again (a re-activation of an alarm that already has a case),
 * - sits on the same asset,
 * - shares a tag with the group, counting the variables a multivariate deviation named together, or
 * - belongs to the same flood (all alarms of a flood in one area form one case).
 * Otherwise it opens a new group. The same alarm coming back rejoins its group for `reopenSeconds`, which a slow
 * continuous unit sets to hours: a fault that comes and goes while its case is open is one case, not one per return. The caller maps groups to cases and closes a group when its case is closed.
 */

export type IntakeParams = {
  /** How long after a group's last alarm a related alarm still joins it. Default 30 min. */
  windowSeconds: number;
  /**
   * How long after a group's last activity the same alarm, coming back, still rejoins it (and its case). Default 30 min,
   * like the window; a continuous unit whose faults come and go for hours sets it longer.
   */
  reopenSeconds: number;
  /**
   * Keep a group open while one of its alarms is still active (the caller passes the active keys), however long ago it
   * was raised: a slow unit whose fault holds an alarm for hours. Default false: the window alone decides.
   */
  holdWhileActive?: boolean;
};

export const DEFAULT_INTAKE_PARAMS: IntakeParams = { windowSeconds: 1800, reopenSeconds: 1800 };

export type IntakeGroup = {
  id: string;
  asset: string | null;
  area: string | null;
  tags: string[];
  keys: string[];
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
  /** Keys of the alarms whose condition is active now: a group holding one of them stays open. */
  activeKeys?: ReadonlySet<string>;
};

export type IntakeDecision = {
  groupId: string;
  opened: boolean;
  reason: 'same-alarm' | 'same-asset' | 'related-tags' | 'flood' | 'new';
};

export const initialIntakeState = (): IntakeState => ({ groups: {} });

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

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
  const groups: Record<string, IntakeGroup> = {};
  const live = new Set<string>();
  const reopen = params.reopenSeconds ?? DEFAULT_INTAKE_PARAMS.reopenSeconds;
  for (const [id, group] of Object.entries(previous.groups)) {
    const idle = seconds(group.lastActivity, alarm.time);
    const active =
      params.holdWhileActive === true &&
      alarm.activeKeys !== undefined &&
      group.keys.some((key) => alarm.activeKeys!.has(key));
    if (idle <= params.windowSeconds || active) live.add(id);
    if (idle <= Math.max(params.windowSeconds, reopen) || active) groups[id] = group;
  }
  const tags = new Set([alarm.tag, ...(alarm.related ?? [])]);
  const candidates = Object.values(groups).sort((a, b) => b.lastActivity.localeCompare(a.lastActivity));
  const liveCandidates = candidates.filter((group) => live.has(group.id));
  let reason: IntakeDecision['reason'] = 'new';
  // the same alarm rejoins its group for reopenSeconds; the other tests need a live group
  let match: IntakeGroup | undefined = candidates.find((group) => group.keys.includes(alarm.key));
  if (match) reason = 'same-alarm';
  for (const [test, why] of [
    [(group: IntakeGroup) => alarm.floodId != null && group.floodId === alarm.floodId, 'flood'],
    [(group: IntakeGroup) => alarm.asset !== null && group.asset === alarm.asset, 'same-asset'],
    [(group: IntakeGroup) => group.tags.some((tag) => tags.has(tag)), 'related-tags'],
  ] as const) {
    if (match) break;
    match = liveCandidates.find(test);
    if (match) {
      reason = why;
      break;
    }
  }
  if (!match) {
    const id = `${alarm.key}@${alarm.time}`;
    groups[id] = {
      id,
      asset: alarm.asset,
      area: alarm.area,
      tags: [...tags],
      keys: [alarm.key],
      floodId: alarm.floodId ?? null,
      openedAt: alarm.time,
      lastActivity: alarm.time,
    };
    return { state: { groups }, decision: { groupId: id, opened: true, reason } };
  }
  groups[match.id] = {
    ...match,
    tags: [...new Set([...match.tags, ...tags])],
    keys: match.keys.includes(alarm.key) ? match.keys : [...match.keys, alarm.key],
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
 * Note activity of an alarm already in a group (a repeat, its return to normal), so that the group stays open for the
 * grouping window after its alarms were last seen, not only after they were first raised.
 */
export function touchGroup(previous: IntakeState, key: string, time: string): IntakeState {
  let groups = previous.groups;
  for (const group of Object.values(previous.groups))
    if (group.keys.includes(key) && seconds(group.lastActivity, time) > 0)
      groups = { ...groups, [group.id]: { ...group, lastActivity: time } };
  return groups === previous.groups ? previous : { groups };
}
