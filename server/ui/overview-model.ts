import type { Case, CaseStatus, Severity } from '../../core/index.ts';
import type { AlarmRow, AlarmStore } from '../../store/index.ts';

type AlarmKpiReport = Awaited<ReturnType<AlarmStore['report']>>;

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
/** Statuses of a case someone still has to act on or watch. */
export const OPEN_STATUSES: readonly CaseStatus[] = [
  'open',
  'triaging',
  'awaiting_approval',
  'approved',
  'executing',
  'escalated',
];
export const AGE_BUCKETS = [
  { label: 'under 1 h', maxHours: 1 },
  { label: '1–8 h', maxHours: 8 },
  { label: '8–24 h', maxHours: 24 },
  { label: 'over 24 h', maxHours: Number.POSITIVE_INFINITY },
] as const;

export interface KpiTile {
  metric: string;
  value: string;
  target: string;
  /** true: meets the ISA-18.2 target; false: misses it; null: for review, no pass/fail. */
  ok: boolean | null;
  /** Nothing to measure (no alarm to take a share of, or no readings seen): shown as "no data", never as a pass. */
  noData: boolean;
}

/** KPIs that are shares of the alarms raised: with no alarm there is nothing to take a share of. */
const SHARE_METRICS = [/^Priority /, /^Top-10 bad actors/, /^Peak alarms/];

export interface Overview {
  at: string;
  alarms: {
    active: number;
    byArea: Array<{ area: string; counts: Record<Severity, number>; total: number }>;
    latest: AlarmRow[];
  };
  cases: {
    open: number;
    byStatus: Array<{ status: CaseStatus; count: number }>;
    byAge: Array<{ label: string; count: number }>;
    oldest: Array<Case & { ageHours: number }>;
  };
  kpis: {
    from: string;
    to: string;
    alarms: number;
    /** The period follows the plant clock, which runs ahead of the server's (an accelerated simulator). */
    plantAhead: boolean;
    tiles: KpiTile[];
  };
}

const severityOf = (value: string): Severity =>
  (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : 'medium';

/**
 * The overview's figures from the active alarms, the cases and the ISA-18.2 report; pure, so the page and the live
 * updates show the same numbers.
 */
export function buildOverview(input: {
  now: Date;
  activeAlarms: AlarmRow[];
  cases: Case[];
  report: Pick<AlarmKpiReport, 'from' | 'to' | 'alarms' | 'rows'>;
  /** How the KPI period was chosen (server/ui/plant-window.ts); without it nothing says the plant was observed. */
  window?: { plantAhead: boolean; observed: boolean } | undefined;
}): Overview {
  const areas = new Map<string, Record<Severity, number>>();
  for (const alarm of input.activeAlarms) {
    const area = alarm.area ?? '(no area)';
    const counts = areas.get(area) ?? { critical: 0, high: 0, medium: 0, low: 0 };
    counts[severityOf(alarm.severity)] += 1;
    areas.set(area, counts);
  }
  const byArea = [...areas]
    .map(([area, counts]) => ({ area, counts, total: SEVERITIES.reduce((sum, level) => sum + counts[level], 0) }))
    .sort((a, b) => b.total - a.total || a.area.localeCompare(b.area));
  const open = input.cases
    .filter((item) => OPEN_STATUSES.includes(item.status))
    .map((item) => ({ ...item, ageHours: (input.now.getTime() - Date.parse(item.createdAt)) / 3_600_000 }));
  const byStatus = OPEN_STATUSES.map((status) => ({
    status,
    count: open.filter((item) => item.status === status).length,
  }));
  const byAge = AGE_BUCKETS.map((bucket, index) => {
    const lower = index === 0 ? Number.NEGATIVE_INFINITY : AGE_BUCKETS[index - 1]!.maxHours;
    return {
      label: bucket.label,
      count: open.filter((item) => item.ageHours >= lower && item.ageHours < bucket.maxHours).length,
    };
  });
  return {
    at: input.now.toISOString(),
    alarms: { active: input.activeAlarms.length, byArea, latest: input.activeAlarms.slice(0, 8) },
    cases: {
      open: open.length,
      byStatus,
      byAge,
      oldest: [...open].sort((a, b) => b.ageHours - a.ageHours).slice(0, 25),
    },
    kpis: {
      from: input.report.from,
      to: input.report.to,
      alarms: input.report.alarms,
      plantAhead: input.window?.plantAhead ?? false,
      tiles: kpiTiles(input.report, input.window),
    },
  };
}

/**
 * The ISA-18.2 report's rows as tiles a person can trust: with zero alarms, a share (priority mix, bad actors, peak)
 * has nothing to measure and says "no data" instead of "meets target"; so do the rates when no reading was seen in
 * the period either. The overview and the Alarms page both show these.
 */
export function kpiTiles(
  report: Pick<AlarmKpiReport, 'alarms' | 'rows'>,
  window: { observed: boolean } | undefined,
): KpiTile[] {
  return report.rows.map((row) => {
    const noData =
      report.alarms === 0 && (!window?.observed || SHARE_METRICS.some((metric) => metric.test(row.metric)));
    return noData
      ? { metric: row.metric, value: 'no data', target: row.target, ok: null, noData: true }
      : { metric: row.metric, value: row.value, target: row.target, ok: row.ok, noData: false };
  });
}

/** "3 min", "5.2 h", "2.1 d": an age a person reads at a glance. */
export function formatAge(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  if (hours < 48) return `${hours.toFixed(1)} h`;
  return `${(hours / 24).toFixed(1)} d`;
}
