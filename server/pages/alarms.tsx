/**
 * The Alarms page: the ISA-18.2 KPI report of a period (detection/alarms/kpi.ts, the same as `andon alarms report` and
 * GET /api/v1/alarms/report), each KPI beside its target, with charts of the alarm rate, the priority distribution
 * and the bad actors. Filters: from, to (UTC) and area.
 */
import { z } from 'zod';
import { AndonError } from '../../core/index.ts';
import { type AlarmActivation, type AlarmKpiReport, ISA_18_2_TARGETS } from '../../detection/index.ts';
import type { AlarmStore, ReadingStore, User, UserStore } from '../../store/index.ts';
import { requireUser } from '../auth.ts';
import { createAuthenticatedApp, optionalUtcTime, parseInput } from '../sub-app.ts';
import { kpiTiles } from '../ui/overview-model.ts';
import { kpiWindow } from '../ui/plant-window.ts';
import { Layout } from './layout.tsx';

const css = `
.filters{display:flex;flex-wrap:wrap;gap:.2rem 1rem;align-items:end}.filters div{flex:1;min-width:12rem}
.kpi-ok{color:var(--ok);font-weight:600}.kpi-bad{color:var(--bad);font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
.table-wrap{overflow-x:auto}figure{margin:0}figcaption{font-weight:600;margin:.4rem 0}
`;

const TEN_MINUTES = 600_000;
const MAX_DAYS = 31;

export const AlarmFilters = z.object({
  from: optionalUtcTime('from'),
  to: optionalUtcTime('to'),
  area: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});

/** The period a report covers: the given times, else the 24 hours up to now, checked for order and length. */
export function reportPeriod(filters: z.infer<typeof AlarmFilters>, now: Date): { from: Date; to: Date } {
  const to =
    filters.to ?? (filters.from ? new Date(Math.min(now.getTime(), filters.from.getTime() + 86_400_000)) : now);
  const from = filters.from ?? new Date(to.getTime() - 86_400_000);
  if (!(to > from))
    throw new AndonError('bad_request', 'The period must end after it starts: choose a "to" after "from".');
  if (to.getTime() - from.getTime() > MAX_DAYS * 86_400_000)
    throw new AndonError('bad_request', `Choose a period of at most ${MAX_DAYS} days.`);
  return { from, to };
}

/**
 * Alarms per 10-minute period (the unit of the ISA-18.2 rate targets), in the busiest area of each period when no
 * area is chosen: the targets are per operator position.
 */
export function tenMinuteSeries(activations: readonly AlarmActivation[], from: Date, to: Date): number[] {
  const periods = Math.ceil((to.getTime() - from.getTime()) / TEN_MINUTES);
  const byArea = new Map<string, number[]>();
  for (const activation of activations) {
    const bin = Math.floor((Date.parse(activation.raisedAt) - from.getTime()) / TEN_MINUTES);
    if (bin < 0 || bin >= periods) continue;
    const area = activation.area ?? '(no area)';
    let counts = byArea.get(area);
    if (!counts) {
      counts = new Array<number>(periods).fill(0);
      byArea.set(area, counts);
    }
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  const series = new Array<number>(periods).fill(0);
  for (const counts of byArea.values()) {
    counts.forEach((count, bin) => {
      series[bin] = Math.max(series[bin]!, count);
    });
  }
  return series;
}

function RateChart(props: { series: number[]; from: Date; to: Date; area: string | null }) {
  const width = 900;
  const height = 240;
  const pad = { left: 40, right: 90, top: 14, bottom: 26 };
  const top = Math.max(ISA_18_2_TARGETS.floodAbove + 2, ...props.series);
  const x = (bin: number) => pad.left + (bin / Math.max(1, props.series.length)) * (width - pad.left - pad.right);
  const y = (value: number) => pad.top + (1 - value / top) * (height - pad.top - pad.bottom);
  const path = props.series
    .map((count, bin) => `${bin === 0 ? 'M' : 'L'}${x(bin).toFixed(1)},${y(count).toFixed(1)}H${x(bin + 1).toFixed(1)}`)
    .join('');
  const floods = props.series.filter((count) => count > ISA_18_2_TARGETS.floodAbove).length;
  const line = (value: number, label: string, color: string) => (
    <g>
      <line x1={pad.left} x2={width - pad.right} y1={y(value)} y2={y(value)} stroke={color} stroke-dasharray="6 4" />
      <text x={width - pad.right + 4} y={y(value) + 4} font-size="11" fill={color}>
        {label}
      </text>
    </g>
  );
  return (
    <figure>
      <figcaption>
        Alarms per 10 minutes{props.area ? ` in ${props.area}` : ' (busiest area in each period)'}
      </figcaption>
      <svg
        class="chart rate-chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Alarms per 10 minutes over ${props.series.length} periods; peak ${Math.max(0, ...props.series)}, ${floods} period(s) above the flood threshold of ${ISA_18_2_TARGETS.floodAbove}`}
      >
        {[0, Math.round(top / 2), top].map((tick) => (
          <text x={pad.left - 6} y={y(tick) + 4} font-size="11" text-anchor="end" fill="#57606a">
            {String(tick)}
          </text>
        ))}
        {line(ISA_18_2_TARGETS.acceptablePerTenMinutes, 'acceptable 1', '#1a7f37')}
        {line(ISA_18_2_TARGETS.maximumPerTenMinutes, 'maximum 2', '#9a6700')}
        {line(ISA_18_2_TARGETS.floodAbove, 'flood > 10', '#b42318')}
        <path d={path} fill="none" stroke="#0b5cad" stroke-width="1.5" />
        <text x={pad.left} y={height - 6} font-size="11" fill="#57606a">
          {`${props.from.toISOString().slice(0, 16).replace('T', ' ')} UTC`}
        </text>
        <text x={width - pad.right} y={height - 6} font-size="11" text-anchor="end" fill="#57606a">
          {`${props.to.toISOString().slice(0, 16).replace('T', ' ')} UTC`}
        </text>
      </svg>
    </figure>
  );
}

function PriorityChart(props: { report: AlarmKpiReport }) {
  const width = 420;
  const height = 190;
  const groups = (['low', 'medium', 'high'] as const).map((priority) => ({
    priority,
    measured: props.report.priority[priority],
    target: ISA_18_2_TARGETS.priority[priority],
  }));
  const base = height - 24;
  const y = (share: number) => base - share * (base - 40);
  return (
    <figure>
      <figcaption>Priority distribution against the ISA-18.2 target</figcaption>
      <svg
        class="chart priority-chart"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`Priority low ${(groups[0]!.measured * 100).toFixed(0)} %, medium ${(groups[1]!.measured * 100).toFixed(0)} %, high ${(groups[2]!.measured * 100).toFixed(0)} %; target about 80, 15 and 5 %`}
      >
        {groups.map((group, index) => {
          const x = 40 + index * 130;
          return (
            <g>
              <rect x={x} y={y(group.measured)} width="40" height={base - y(group.measured)} fill="#0b5cad" />
              <rect x={x + 44} y={y(group.target)} width="40" height={base - y(group.target)} fill="#d0d7de" />
              <text x={x + 20} y={y(group.measured) - 4} font-size="11" text-anchor="middle" fill="#1b1f24">
                {`${(group.measured * 100).toFixed(0)} %`}
              </text>
              <text x={x + 64} y={y(group.target) - 4} font-size="11" text-anchor="middle" fill="#57606a">
                {`${(group.target * 100).toFixed(0)} %`}
              </text>
              <text x={x + 42} y={base + 16} font-size="12" text-anchor="middle" fill="#1b1f24">
                {group.priority}
              </text>
            </g>
          );
        })}
        <rect x="300" y="6" width="10" height="10" fill="#0b5cad" />
        <text x="314" y="15" font-size="11">
          measured
        </text>
        <rect x="300" y="22" width="10" height="10" fill="#d0d7de" />
        <text x="314" y="31" font-size="11">
          target
        </text>
      </svg>
    </figure>
  );
}

function BadActorsChart(props: { report: AlarmKpiReport }) {
  const actors = props.report.badActors;
  if (actors.length === 0)
    return (
      <figure>
        <figcaption>Top-10 bad actors</figcaption>
        <p>No alarms in this period.</p>
      </figure>
    );
  const width = 420;
  const row = 34;
  const height = actors.length * row + 6;
  const most = Math.max(...actors.map((actor) => actor.count));
  return (
    <figure>
      <figcaption>Top-10 bad actors: {(props.report.topTenShare * 100).toFixed(1)} % of all alarms</figcaption>
      <svg
        class="chart bad-actors"
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={`The ${actors.length} most frequent alarms; the first, ${actors[0]!.key}, raised ${actors[0]!.count} times`}
      >
        {actors.map((actor, index) => {
          const y = 4 + index * row;
          const bar = Math.max(2, (actor.count / most) * (width - 70));
          return (
            <g>
              <text x="4" y={y + 11} font-size="11" fill="#1b1f24">
                {actor.key.length > 64 ? `${actor.key.slice(0, 63)}…` : actor.key}
              </text>
              <rect x="4" y={y + 15} width={bar} height="12" fill="#9a6700" />
              <text x={bar + 8} y={y + 25} font-size="11" fill="#1b1f24">
                {`${actor.count}× · ${(actor.share * 100).toFixed(0)} %`}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

const localValue = (date: Date) => date.toISOString().slice(0, 16);

export function AlarmsPage(props: {
  user: User;
  report: AlarmKpiReport;
  series: number[];
  from: Date;
  to: Date;
  areas: string[];
  /** Readings were seen in the period (server/ui/plant-window.ts): zero alarms there is a measurement. */
  observed?: boolean | undefined;
  /** The period follows the plant clock, which runs ahead of the server's. */
  plantAhead?: boolean | undefined;
}) {
  const { report } = props;
  const tiles = kpiTiles(report, { observed: props.observed ?? false });
  return (
    <Layout title="Alarms" user={props.user}>
      <style>{css}</style>
      <h1>Alarm KPIs (ISA-18.2)</h1>
      <form method="get" action="/alarms" class="filters">
        <div>
          <label for="alarms-from">From (UTC)</label>
          <input id="alarms-from" name="from" type="datetime-local" value={localValue(props.from)} />
        </div>
        <div>
          <label for="alarms-to">To (UTC)</label>
          <input id="alarms-to" name="to" type="datetime-local" value={localValue(props.to)} />
        </div>
        <div>
          <label for="alarms-area">Area</label>
          <input id="alarms-area" name="area" list="alarm-areas" value={report.area ?? ''} placeholder="All areas" />
          <datalist id="alarm-areas">
            {props.areas.map((area) => (
              <option value={area} />
            ))}
          </datalist>
        </div>
        <div style="flex:0">
          <button type="submit">Show</button>
        </div>
      </form>
      <p>
        {report.alarms} alarm(s) from {report.from.slice(0, 16).replace('T', ' ')} to{' '}
        {report.to.slice(0, 16).replace('T', ' ')} UTC{report.area ? ` in ${report.area}` : ', all areas'} ·{' '}
        {report.periods} ten-minute periods
        {props.plantAhead ? ' · on the plant clock, which runs ahead of this server’s' : ''}
      </p>
      <div class="table-wrap">
        <table class="kpis">
          <thead>
            <tr>
              <th scope="col">KPI</th>
              <th scope="col">Measured</th>
              <th scope="col">ISA-18.2 target</th>
              <th scope="col">Meets</th>
            </tr>
          </thead>
          <tbody>
            {tiles.map((row) => (
              <tr class="kpi">
                <th scope="row">{row.metric}</th>
                <td>{row.value}</td>
                <td>{row.target}</td>
                <td>
                  {row.noData ? (
                    <span class="muted">no data</span>
                  ) : row.ok === null ? (
                    <span class="muted">review</span>
                  ) : row.ok ? (
                    <span class="kpi-ok">✓ yes</span>
                  ) : (
                    <span class="kpi-bad">✗ no</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Charts</h2>
      <RateChart series={props.series} from={props.from} to={props.to} area={report.area} />
      <div class="charts">
        <PriorityChart report={report} />
        <BadActorsChart report={report} />
      </div>
    </Layout>
  );
}

export interface AlarmsPageDeps {
  alarms: Pick<AlarmStore, 'report' | 'activations' | 'list'>;
  /** For the default period on the plant clock (server/ui/plant-window.ts). */
  readings: Pick<ReadingStore, 'window'>;
  users: UserStore;
  now?: () => Date;
}

/** The Alarms page as a sub-app (mount at the server's root): GET /alarms?from=&to=&area=. */
export function createAlarmsPage(deps: AlarmsPageDeps) {
  const app = createAuthenticatedApp(deps.users, ['/alarms']);
  app.get('/alarms', async (c) => {
    const user = requireUser(c);
    const filters = parseInput(AlarmFilters, c.req.query());
    const now = deps.now?.() ?? new Date();
    // without a chosen period: the last 24 hours on the plant clock, from where the readings start
    const window = filters.from || filters.to ? null : await kpiWindow(deps, now);
    const { from, to } = window ?? reportPeriod(filters, now);
    const period = { from: from.toISOString(), to: to.toISOString() };
    const [report, activations, all] = await Promise.all([
      deps.alarms.report({ ...period, ...(filters.area ? { area: filters.area } : {}) }),
      deps.alarms.activations(period.from, period.to, filters.area),
      filters.area ? deps.alarms.activations(period.from, period.to) : null,
    ]);
    const areas = [...new Set((all ?? activations).map((activation) => activation.area).filter((a) => a !== null))];
    return c.html(
      <AlarmsPage
        user={user}
        report={report}
        series={tenMinuteSeries(activations, from, to)}
        from={from}
        to={to}
        areas={areas.sort()}
        observed={window ? window.observed : true}
        plantAhead={window?.plantAhead}
      />,
    );
  });
  return app;
}
