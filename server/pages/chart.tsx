import type { Deviation, Reading } from '../../core/index.ts';

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
