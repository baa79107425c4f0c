import { describe, expect, it } from 'vitest';
import type { Case } from '../../core/index.ts';
import type { AlarmRow } from '../../store/index.ts';
import { buildOverview, formatAge } from './overview-model.ts';

const now = new Date('2026-11-25T12:00:00Z');
const alarm = (area: string | null, severity: string): AlarmRow => ({
  id: `A-${Math.random()}`,
  key: 'k',
  tag: 't',
  detector: 'ewma',
  rule: 'limit',
  area,
  asset: null,
  state: 'unacknowledged_active',
  priority: 'medium',
  severity,
  count: 1,
  firstSeen: now.toISOString(),
  lastSeen: now.toISOString(),
  caseId: null,
  shelve: null,
  suppression: null,
});
const item = (status: Case['status'], hoursOld: number): Case => ({
  id: `CASE-${status}-${hoursOld}`,
  title: 't',
  description: '',
  status,
  severity: 'medium',
  area: null,
  tags: [],
  context: {},
  deviationIds: [],
  threadId: 'x',
  createdAt: new Date(now.getTime() - hoursOld * 3_600_000).toISOString(),
  updatedAt: now.toISOString(),
});

describe('overview figures', () => {
  it('counts active alarms by area and severity, busiest area first', () => {
    const overview = buildOverview({
      now,
      activeAlarms: [alarm('packaging', 'high'), alarm('packaging', 'medium'), alarm(null, 'critical')],
      cases: [],
      report: { from: now.toISOString(), to: now.toISOString(), alarms: 0, rows: [] },
    });
    expect(overview.alarms.byArea).toEqual([
      { area: 'packaging', counts: { critical: 0, high: 1, medium: 1, low: 0 }, total: 2 },
      { area: '(no area)', counts: { critical: 1, high: 0, medium: 0, low: 0 }, total: 1 },
    ]);
  });

  it('counts open cases by status and age and leaves closed ones out', () => {
    const overview = buildOverview({
      now,
      activeAlarms: [],
      cases: [item('awaiting_approval', 0.5), item('triaging', 3), item('escalated', 30), item('closed', 2)],
      report: { from: now.toISOString(), to: now.toISOString(), alarms: 0, rows: [] },
    });
    expect(overview.cases.open).toBe(3);
    expect(overview.cases.byAge.map((bucket) => bucket.count)).toEqual([1, 1, 0, 1]);
    expect(overview.cases.byStatus.find((row) => row.status === 'escalated')?.count).toBe(1);
    expect(overview.cases.oldest.map((row) => row.status)).toEqual(['escalated', 'triaging', 'awaiting_approval']);
  });

  it('writes ages a person reads at a glance', () => {
    expect(formatAge(0.25)).toBe('15 min');
    expect(formatAge(5.24)).toBe('5.2 h');
    expect(formatAge(72)).toBe('3.0 d');
  });
});

describe('KPI tiles with nothing to measure', () => {
  const rows = [
    { metric: 'Alarms per 10 min per area (average; worst area)', value: '0.00; 0.00', target: 'about 1', ok: true },
    { metric: 'Priority low / medium / high', value: '0.0 % / 0.0 % / 0.0 %', target: 'about 80 / 15 / 5 %', ok: true },
    { metric: 'Top-10 bad actors, share of all alarms', value: '0.0 % (0 alarms)', target: 'review', ok: null },
  ];
  const tiles = (alarms: number, window?: { plantAhead: boolean; observed: boolean }) =>
    buildOverview({
      now,
      activeAlarms: [],
      cases: [],
      report: { from: now.toISOString(), to: now.toISOString(), alarms, rows },
      window,
    }).kpis.tiles;

  it('says "no data" for the priority distribution with no alarm, never "meets target"', () => {
    const [rate, priority, actors] = tiles(0, { plantAhead: false, observed: true });
    expect(priority).toMatchObject({ value: 'no data', ok: null, noData: true });
    expect(actors).toMatchObject({ value: 'no data', noData: true });
    // readings were seen in the period, so zero alarms there is a real rate
    expect(rate).toMatchObject({ value: '0.00; 0.00', ok: true, noData: false });
  });

  it('says "no data" for every tile when no reading was seen in the period either', () => {
    expect(tiles(0).every((tile) => tile.noData && tile.ok === null)).toBe(true);
  });

  it('shows the measured figures once there are alarms', () => {
    expect(tiles(12, { plantAhead: true, observed: true }).map((tile) => tile.noData)).toEqual([false, false, false]);
  });
});
