import type { Deviation, Reading } from '../../core/index.ts';

/** What the uPlot island draws: times in seconds, the signal, limits and the flagged points with the rule that fired. */
export interface ChartData {
  tag: string;
  t: number[];
  v: Array<number | null>;
  limits: { lower: number | null; center: number | null; upper: number | null; source: string } | null;
  flags: Array<{ t: number; v: number; label: string }>;
}

/** The chart's data from the readings and the deviations on one tag. */
export function chartData(tag: string, readings: Reading[], deviations: Deviation[]): ChartData {
  const good = focusWindow(
    readings.filter((reading) => reading.quality === 'good'),
    deviations,
  );
  const first = deviations[0];
  return {
    tag,
    t: good.map((reading) => Date.parse(reading.sourceTime) / 1000),
    v: good.map((reading) => reading.value),
    limits: first ? { ...first.limits, source: `${first.detector} ${first.rule}` } : null,
    flags: deviations.map((deviation) => ({
      t: Date.parse(deviation.detectedAt) / 1000,
      v: deviation.value,
      label: `${deviation.detector} ${deviation.rule}`,
    })),
  };
}

const time = (iso: string) => iso.replace('T', ' ').slice(0, 19);

/**
 * The readings around the flagged points: everything before them, and after the last one as long again as the
 * stretch before the first (at least a minute), so the limits and zones stay readable when a drift runs on.
 */
export function focusWindow(readings: Reading[], deviations: Deviation[]): Reading[] {
  if (deviations.length === 0 || readings.length === 0) return readings;
  const flagged = deviations.map((deviation) => Date.parse(deviation.detectedAt));
  const start = Date.parse(readings[0]!.sourceTime);
  const last = Math.max(...flagged);
  const until = last + Math.max(60_000, Math.min(...flagged) - start);
  return readings.filter((reading) => Date.parse(reading.sourceTime) <= until);
}

/**
 * One signal's control chart: uPlot (client island) with centre line, limits, zones and the flagged points labelled with
 * their rule; the server-drawn SVG stays as the fallback without script, and the flagged points are also a table.
 */
export function SignalChart(props: { tag: string; readings: Reading[]; deviations: Deviation[] }) {
  const data = chartData(props.tag, props.readings, props.deviations);
  const id = `chart-${props.tag.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const limits = data.limits;
  return (
    <figure class="chart-box" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{props.tag}</h3>
      <figcaption class="muted">
        {data.t.length} samples
        {limits && typeof limits.center === 'number' ? ` · centre ${limits.center.toPrecision(5)}` : ''}
        {limits && typeof limits.lower === 'number' ? ` · LCL ${limits.lower.toPrecision(5)}` : ''}
        {limits && typeof limits.upper === 'number' ? ` · UCL ${limits.upper.toPrecision(5)}` : ''}
        {limits ? ` (limits of ${limits.source})` : ''} · {data.flags.length} flagged point(s). Shaded bands are zones
        C, B and A (1, 2 and 3 σ from the centre).
      </figcaption>
      <div class="uplot-target" id={id} data-chart={JSON.stringify(data)} />
      <div class="chart-fallback">
        <ControlChart
          tag={props.tag}
          readings={focusWindow(props.readings, props.deviations)}
          deviations={props.deviations}
        />
      </div>
      <details>
        <summary>Flagged points as a table</summary>
        <table class="flagged-table">
          <thead>
            <tr>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Value</th>
              <th scope="col">Rule that fired</th>
            </tr>
          </thead>
          <tbody>
            {props.deviations.map((deviation) => (
              <tr>
                <td>{time(deviation.detectedAt)}</td>
                <td>{deviation.value.toPrecision(5)}</td>
                <td>
                  {deviation.detector} {deviation.rule}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/**
 * A server-rendered control chart: the signal, centre line, control limits and the flagged points, as inline SVG.
 */
export function ControlChart(props: { tag: string; readings: Reading[]; deviations: Deviation[] }) {
  const width = 900;
  const height = 260;
  const pad = { left: 56, right: 16, top: 16, bottom: 28 };
  const points = props.readings.filter((reading) => reading.quality === 'good');
  const limits = props.deviations[0]?.limits;
  if (points.length < 2) return <p class="muted">Not enough samples of {props.tag} to draw a chart yet.</p>;
  const times = points.map((point) => Date.parse(point.sourceTime));
  const values = points.map((point) => point.value);
  const flagged = props.deviations.map((deviation) => ({
    t: Date.parse(deviation.detectedAt),
    v: deviation.value,
    label: `${deviation.detector} ${deviation.rule}`,
  }));
  const all = [
    ...values,
    ...flagged.map((flag) => flag.v),
    ...[limits?.lower, limits?.upper, limits?.center].filter((x): x is number => typeof x === 'number'),
  ];
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, ...flagged.map((flag) => flag.t));
  const x = (t: number) => pad.left + ((t - t0) / (t1 - t0 || 1)) * (width - pad.left - pad.right);
  const y = (v: number) => pad.top + (1 - (v - (lo - span * 0.05)) / (span * 1.1)) * (height - pad.top - pad.bottom);
  const path = points
    .map((point, index) => `${index === 0 ? 'M' : 'L'}${x(times[index]!).toFixed(1)},${y(point.value).toFixed(1)}`)
    .join('');
  const hline = (value: number | null | undefined, color: string, label: string, dash: string) =>
    typeof value === 'number' ? (
      <g>
        <line x1={pad.left} x2={width - pad.right} y1={y(value)} y2={y(value)} stroke={color} stroke-dasharray={dash} />
        <text x={width - pad.right - 4} y={y(value) - 4} text-anchor="end" font-size="12" fill={color}>
          {`${label} ${value.toPrecision(5)}`}
        </text>
      </g>
    ) : null;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Control chart of ${props.tag} with ${flagged.length} flagged point(s)`}
    >
      <text x={pad.left} y={12} font-size="12" fill="#57606a">
        {props.tag}
      </text>
      <text x={4} y={y(hi)} font-size="11" fill="#57606a">
        {hi.toPrecision(5)}
      </text>
      <text x={4} y={y(lo)} font-size="11" fill="#57606a">
        {lo.toPrecision(5)}
      </text>
      {hline(limits?.upper, '#b42318', 'UCL', '6 4')}
      {hline(limits?.center, '#1a7f37', 'CL', '2 3')}
      {hline(limits?.lower, '#b42318', 'LCL', '6 4')}
      <path d={path} fill="none" stroke="#0b5cad" stroke-width="1.5" />
      {flagged.map((flag) => (
        <g class="flagged">
          <circle cx={x(flag.t)} cy={y(flag.v)} r="6" fill="#b42318" stroke="#fff" stroke-width="1.5">
            <title>{flag.label}</title>
          </circle>
          <text x={x(flag.t) - 6} y={y(flag.v) + 20} font-size="12" fill="#b42318" text-anchor="end">
            {flag.label}
          </text>
        </g>
      ))}
      <text x={pad.left} y={height - 8} font-size="11" fill="#57606a">
        {new Date(t0).toISOString().slice(11, 19)} UTC
      </text>
      <text x={width - pad.right} y={height - 8} font-size="11" fill="#57606a" text-anchor="end">
        {new Date(t1).toISOString().slice(11, 19)} UTC
      </text>
    </svg>
  );
}
