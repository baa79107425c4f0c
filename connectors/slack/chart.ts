import type { Deviation, Reading } from '../../core/index.ts';
import { Raster, type Rgb } from './png.ts';

const colors = {
  plot: [250, 250, 252] as Rgb,
  axis: [120, 120, 130] as Rgb,
  grid: [228, 228, 234] as Rgb,
  center: [46, 160, 67] as Rgb,
  limit: [207, 34, 46] as Rgb,
  outside: [255, 235, 233] as Rgb,
  series: [9, 105, 218] as Rgb,
  flagged: [207, 34, 46] as Rgb,
};

export interface ControlChartInput {
  readings: Array<Pick<Reading, 'sourceTime' | 'value'>>;
  limits: Deviation['limits'];
  /** Times (and values) the detectors flagged. */
  flagged: Array<{ t: string; value: number }>;
  width?: number;
  height?: number;
}

/**
 * Render a control chart as a PNG: the signal, its centre line and control limits (dashed), the band outside the
 * limits shaded, and the flagged points as red dots. Server-side, so Slack shows the same picture as the case page.
 */
export function renderControlChart(input: ControlChartInput): Buffer {
  const width = input.width ?? 720;
  const height = input.height ?? 300;
  const raster = new Raster(width, height);
  const margin = { left: 16, right: 16, top: 14, bottom: 14 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  raster.fillRect(margin.left, margin.top, plotWidth, plotHeight, colors.plot);

  const points = input.readings
    .map((reading) => ({ t: Date.parse(reading.sourceTime), value: reading.value }))
    .filter((point) => Number.isFinite(point.t) && Number.isFinite(point.value))
    .sort((a, b) => a.t - b.t);
  const flagged = input.flagged.map((point) => ({ t: Date.parse(point.t), value: point.value }));
  const values = [
    ...points.map((point) => point.value),
    ...flagged.map((point) => point.value),
    ...[input.limits.lower, input.limits.center, input.limits.upper].filter((limit): limit is number => limit !== null),
  ];
  const times = [...points.map((point) => point.t), ...flagged.map((point) => point.t)].filter(Number.isFinite);
  if (values.length === 0 || times.length === 0) return raster.png();

  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high === low) {
    high += 1;
    low -= 1;
  }
  const pad = (high - low) * 0.08;
  low -= pad;
  high += pad;
  const first = Math.min(...times);
  const last = Math.max(...times) === first ? first + 1 : Math.max(...times);
  const x = (t: number) => margin.left + ((t - first) / (last - first)) * plotWidth;
  const y = (value: number) => margin.top + (1 - (value - low) / (high - low)) * plotHeight;

  for (let step = 1; step < 4; step += 1) {
    const gridY = margin.top + (plotHeight * step) / 4;
    raster.line(margin.left, gridY, margin.left + plotWidth, gridY, colors.grid);
  }
  if (input.limits.upper !== null)
    raster.fillRect(margin.left, margin.top, plotWidth, y(input.limits.upper) - margin.top, colors.outside);
  if (input.limits.lower !== null)
    raster.fillRect(
      margin.left,
      y(input.limits.lower),
      plotWidth,
      margin.top + plotHeight - y(input.limits.lower),
      colors.outside,
    );
  if (input.limits.center !== null) {
    const centerY = y(input.limits.center);
    raster.line(margin.left, centerY, margin.left + plotWidth, centerY, colors.center, 2);
  }
  for (const limit of [input.limits.upper, input.limits.lower]) {
    if (limit === null) continue;
    raster.line(margin.left, y(limit), margin.left + plotWidth, y(limit), colors.limit, 2, 8);
  }
  for (let index = 1; index < points.length; index += 1) {
    const from = points[index - 1]!;
    const to = points[index]!;
    raster.line(x(from.t), y(from.value), x(to.t), y(to.value), colors.series, 2);
  }
  for (const point of flagged) raster.disc(x(point.t), y(point.value), 5, colors.flagged);
  raster.line(margin.left, margin.top + plotHeight, margin.left + plotWidth, margin.top + plotHeight, colors.axis);
  raster.line(margin.left, margin.top, margin.left, margin.top + plotHeight, colors.axis);
  return raster.png();
}
