/**
 * ISA-18.2 (ANSI/ISA-18.2-2016 section 16, EEMUA 191) alarm performance KPIs over a period, pure: activations in, a
 * report with each figure beside its target out. An activation is one annunciation of an alarm to the operator;
 * shelved, suppressed and out-of-service alarms never annunciate and are not counted.
 */
import type { Priority } from '../../core/index.ts';

export type AlarmActivation = {
  key: string;
  tag: string;
  detector: string;
  rule: string;
  area: string | null;
  priority: Priority;
  raisedAt: string;
  /** Null while still active. */
  clearedAt: string | null;
};

export type KpiOptions = {
  from: string;
  to: string;
  /** Only this area (an operator position); default all areas. */
  area?: string;
  /** Activations shorter than this count as fleeting. Default 10 s. */
  fleetingSeconds?: number;
  /** Activations active longer than this count as stale. Default 24 h. */
  staleSeconds?: number;
  /** A 10-minute period with more than this many activations in one area is a flood. Default 10. */
  floodAlarms?: number;
};

export type KpiRow = { metric: string; value: string; target: string; ok: boolean | null };

export type AlarmKpiReport = {
  from: string;
  to: string;
  area: string | null;
  periods: number;
  alarms: number;
  perTenMinutes: { average: number; byArea: Record<string, number> };
  perHour: number;
  peakTenMinutes: { count: number; at: string | null; area: string | null };
  floodPercent: number;
  badActors: { key: string; count: number; share: number }[];
  topTenShare: number;
  chattering: number;
  fleeting: number;
  stale: number;
  stalePerDay: number;
  priority: Record<Priority, number>;
  rows: KpiRow[];
};

const TEN_MINUTES = 600_000;

/** The ISA-18.2 targets the report is measured against. */
export const ISA_18_2_TARGETS = {
  acceptablePerTenMinutes: 1,
  maximumPerTenMinutes: 2,
  floodAbove: 10,
  floodPercent: 1,
  chattering: 0,
  stalePerDay: 5,
  priority: { low: 0.8, medium: 0.15, high: 0.05 },
} as const;

const percent = (value: number): string => `${(100 * value).toFixed(1)} %`;

/**
 * Compute the alarm KPIs of a period.
 *
 * @example
 * const report = alarmKpis(activations, { from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' });
 * console.log(formatKpiTable(report));
 */
export function alarmKpis(activations: readonly AlarmActivation[], options: KpiOptions): AlarmKpiReport {
  const from = Date.parse(options.from);
  const to = Date.parse(options.to);
  if (!(to > from)) throw new RangeError(`the KPI period must end after it starts (${options.from} – ${options.to})`);
  const fleetingSeconds = options.fleetingSeconds ?? 10;
  const staleSeconds = options.staleSeconds ?? 86_400;
  const floodAlarms = options.floodAlarms ?? ISA_18_2_TARGETS.floodAbove;
  const periods = Math.ceil((to - from) / TEN_MINUTES);
  const inPeriod = activations.filter((activation) => {
    const at = Date.parse(activation.raisedAt);
    return at >= from && at < to && (options.area === undefined || activation.area === options.area);
  });
  const areaOf = (activation: AlarmActivation) => activation.area ?? '(no area)';
  const bins = new Map<string, number[]>();
  for (const activation of inPeriod) {
    const area = areaOf(activation);
    let counts = bins.get(area);
    if (!counts) {
      counts = new Array<number>(periods).fill(0);
      bins.set(area, counts);
    }
    const bin = Math.floor((Date.parse(activation.raisedAt) - from) / TEN_MINUTES);
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  const byArea: Record<string, number> = {};
  let peak = { count: 0, at: null as string | null, area: null as string | null };
  const floodBins = new Set<number>();
  for (const [area, counts] of bins) {
    byArea[area] = counts.reduce((sum, count) => sum + count, 0) / periods;
    counts.forEach((count, bin) => {
      if (count > peak.count) peak = { count, at: new Date(from + bin * TEN_MINUTES).toISOString(), area };
      if (count > floodAlarms) floodBins.add(bin);
    });
  }
  const areas = Math.max(1, bins.size);
  const average = inPeriod.length / periods / areas;
  const perKey = new Map<string, number>();
  for (const activation of inPeriod) perKey.set(activation.key, (perKey.get(activation.key) ?? 0) + 1);
  const badActors = [...perKey]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 10)
    .map(([key, count]) => ({ key, count, share: count / Math.max(1, inPeriod.length) }));
  const topTenShare = badActors.reduce((sum, actor) => sum + actor.share, 0);
  const chattering = inPeriod.filter((activation) => activation.detector === 'alarm-management').length;
  const duration = (activation: AlarmActivation) =>
    ((activation.clearedAt === null ? to : Math.min(to, Date.parse(activation.clearedAt))) -
      Date.parse(activation.raisedAt)) /
    1000;
  const fleeting = inPeriod.filter(
    (activation) => activation.clearedAt !== null && duration(activation) < fleetingSeconds,
  ).length;
  const stale = inPeriod.filter((activation) => duration(activation) > staleSeconds).length;
  const days = (to - from) / 86_400_000;
  const stalePerDay = stale / days;
  const priority: Record<Priority, number> = { low: 0, medium: 0, high: 0 };
  for (const activation of inPeriod) priority[activation.priority] += 1 / Math.max(1, inPeriod.length);
  const floodPercent = floodBins.size / periods;
  const worstArea = Math.max(0, ...Object.values(byArea));
  const target = ISA_18_2_TARGETS;
  // No alarm in the period is no evidence about the priority mix: the row says so instead of "meets".
  const priorityOk =
    inPeriod.length === 0
      ? null
      : priority.high <= 0.1 && priority.medium <= 0.25 + 1e-9 && priority.low >= 0.65 - 1e-9;
  const rows: KpiRow[] = [
    {
      metric: 'Alarms per 10 min per area (average; worst area)',
      value: `${average.toFixed(2)}; ${worstArea.toFixed(2)}`,
      target: `about ${target.acceptablePerTenMinutes} acceptable, ${target.maximumPerTenMinutes} at most`,
      ok: worstArea <= target.maximumPerTenMinutes,
    },
    {
      metric: 'Alarms per hour per area (average)',
      value: (average * 6).toFixed(2),
      target: `about ${6 * target.acceptablePerTenMinutes}, ${6 * target.maximumPerTenMinutes} at most`,
      ok: average * 6 <= 6 * target.maximumPerTenMinutes,
    },
    {
      metric: 'Peak alarms in one 10-min period (one area)',
      value: `${peak.count}${peak.at ? ` (${peak.area}, ${peak.at.slice(0, 16)}Z)` : ''}`,
      target: `over ${target.floodAbove} is a flood, allowed < ${target.floodPercent} % of the time`,
      ok: null,
    },
    {
      metric: '10-min periods in flood',
      value: `${percent(floodPercent)} (${floodBins.size} of ${periods})`,
      target: `< ${target.floodPercent} %`,
      ok: floodPercent * 100 < target.floodPercent,
    },
    {
      metric: 'Top-10 bad actors, share of all alarms',
      value: `${percent(topTenShare)} (${badActors.length} alarms)`,
      target: 'as low as possible; review each',
      ok: null,
    },
    {
      metric: 'Chattering alarms',
      value: String(chattering),
      target: 'none',
      ok: chattering === target.chattering,
    },
    {
      metric: `Fleeting alarms (active < ${fleetingSeconds} s)`,
      value: String(fleeting),
      target: 'none (use on-delay)',
      ok: null,
    },
    {
      metric: 'Stale alarms (active > 24 h) per day',
      value: stalePerDay.toFixed(2),
      target: `< ${target.stalePerDay} a day`,
      ok: stalePerDay < target.stalePerDay,
    },
    {
      metric: 'Priority low / medium / high',
      value:
        inPeriod.length === 0
          ? 'no alarms in the period'
          : `${percent(priority.low)} / ${percent(priority.medium)} / ${percent(priority.high)}`,
      target: 'about 80 / 15 / 5 %',
      ok: priorityOk,
    },
  ];
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    area: options.area ?? null,
    periods,
    alarms: inPeriod.length,
    perTenMinutes: { average, byArea },
    perHour: average * 6,
    peakTenMinutes: peak,
    floodPercent,
    badActors,
    topTenShare,
    chattering,
    fleeting,
    stale,
    stalePerDay,
    priority,
    rows,
  };
}

/** The KPI table as Markdown, each figure beside its ISA-18.2 target. */
export function formatKpiTable(report: AlarmKpiReport): string {
  const lines = [
    `Alarm KPIs ${report.from} – ${report.to}${report.area ? `, area ${report.area}` : ''}: ${report.alarms} alarms`,
    '',
    '| KPI | measured | ISA-18.2 target | meets |',
    '| --- | --- | --- | --- |',
    ...report.rows.map(
      (row) => `| ${row.metric} | ${row.value} | ${row.target} | ${row.ok === null ? '–' : row.ok ? 'yes' : 'NO'} |`,
    ),
  ];
  if (report.badActors.length > 0) {
    lines.push('', 'Top bad actors:');
    for (const actor of report.badActors) lines.push(`  ${actor.count}× ${actor.key} (${percent(actor.share)})`);
  }
  return lines.join('\n');
}
