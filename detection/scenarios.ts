/**
 * Synthetic, labelled backtest scenarios unlike the Tennessee Eastman plant: few variables, a single variable, skewed
 * noise, a wandering baseline, constant and sample-and-hold columns, missing cells. Each scenario is a table with a label
 * per row (1 from the fault onset to the end), generated from a fixed seed, so that tests and `bench/detection-scenarios.ts`
 * can score the default bank point-wise (F1, false-alarm and missed-alarm rates) and by onset delay.
 */
import { createNormalRandom } from './random.ts';
import { type Table, tableFromRows } from './table.ts';

export type Scenario = {
  name: string;
  description: string;
  table: Table;
  /** 1 on the rows where the fault is present. */
  labels: Uint8Array;
  trainRows: number;
};

export type ScenarioScore = {
  f1: number;
  precision: number;
  recall: number;
  /** Share of normal monitoring rows in alarm. */
  falseAlarmRate: number;
  /** Share of faulty rows not in alarm. */
  missedAlarmRate: number;
  /** Rows from the fault onset to the first alarm at or after it; null when never detected. */
  onsetDelay: number | null;
};

const ROWS = 2000;
const TRAIN = 600;
const ONSET = 1400;

/** AR(1) noise with lag-1 correlation phi and unit stationary variance. */
function ar1(normal: () => number, phi: number, n: number): number[] {
  const out: number[] = [];
  let x = normal();
  for (let i = 0; i < n; i++) {
    x = phi * x + Math.sqrt(1 - phi * phi) * normal();
    out.push(x);
  }
  return out;
}

function buildScenario(
  name: string,
  description: string,
  columns: string[],
  make: (normal: () => number) => number[][],
  seed: number,
): Scenario {
  const rows = make(createNormalRandom(seed));
  const labels = new Uint8Array(rows.length);
  labels.fill(1, ONSET);
  return { name, description, table: tableFromRows(columns, rows), labels, trainRows: TRAIN };
}

/** Step a value up by `size` from the onset. */
const after = (i: number, size: number): number => (i >= ONSET ? size : 0);

/**
 * The scenarios, in a fixed order. `replicate` shifts every seed, giving independent draws of the same scenarios, so a
 * score can be averaged over several runs rather than read off one lucky or unlucky draw.
 */
export function syntheticScenarios(replicate = 0): Scenario[] {
  const build = (...args: Parameters<typeof buildScenario>): Scenario =>
    buildScenario(args[0], args[1], args[2], args[3], args[4] + 1000 * replicate);
  return [
    build(
      'correlated-step',
      '6 correlated AR(1) variables (two latent factors); one variable steps by 1.5 σ',
      ['a', 'b', 'c', 'd', 'e', 'f'],
      (normal) => {
        const f1 = ar1(normal, 0.9, ROWS);
        const f2 = ar1(normal, 0.7, ROWS);
        return f1.map((u, i) => {
          const v = f2[i]!;
          return [
            u + 0.3 * normal(),
            u - v + 0.3 * normal(),
            v + 0.3 * normal(),
            2 * u + 0.5 * normal(),
            v + 0.3 * normal() + after(i, 1.5 * 0.3 * 3),
            0.5 * u + v + 0.3 * normal(),
          ];
        });
      },
      1,
    ),
    build(
      'sensor-drift',
      '5 correlated variables; one sensor drifts away from the others (broken correlation), 0.01 σ per row',
      ['p1', 'p2', 'p3', 'p4', 'p5'],
      (normal) => {
        const f = ar1(normal, 0.95, ROWS);
        return f.map((u, i) => [
          u + 0.2 * normal(),
          u + 0.2 * normal() + (i >= ONSET ? 0.01 * (i - ONSET) : 0),
          -u + 0.2 * normal(),
          0.5 * u + 0.2 * normal(),
          u + 0.2 * normal(),
        ]);
      },
      2,
    ),
    build(
      'univariate-shift',
      'one AR(1) variable (φ = 0.8) whose mean shifts by 1 σ',
      ['level'],
      (normal) => ar1(normal, 0.8, ROWS).map((x, i) => [50 + 2 * (x + after(i, 1))]),
      3,
    ),
    build(
      'skewed-variance',
      'two skewed (log-normal) variables; one doubles its spread',
      ['vibration', 'current'],
      (normal) =>
        Array.from({ length: ROWS }, (_, i) => [
          Math.exp(0.5 * normal() * (i >= ONSET ? 2 : 1)),
          10 + Math.exp(0.3 * normal()),
        ]),
      4,
    ),
    build(
      'wandering-baseline',
      '3 variables on a slowly wandering operating point (random walk shared by all); one spikes in oscillation',
      ['t1', 't2', 't3'],
      (normal) => {
        let walk = 0;
        return Array.from({ length: ROWS }, (_, i) => {
          walk += 0.02 * normal();
          const oscillation = i >= ONSET ? 2 * Math.sin(i / 2) : 0;
          return [walk + 0.5 * normal(), walk + 0.5 * normal() + oscillation, 2 * walk + 0.5 * normal()];
        });
      },
      5,
    ),
    build(
      'messy-columns',
      '4 variables with a constant column, a sample-and-hold analyser (new value every 5 rows) and 2 % missing cells; a correlated pair loses its correlation',
      ['setpoint', 'analyser', 'x', 'y'],
      (normal) => {
        let held = 0;
        return Array.from({ length: ROWS }, (_, i) => {
          if (i % 5 === 0) held = normal();
          const x = normal();
          const y = i >= ONSET ? normal() : x + 0.3 * normal();
          const row = [100, 7 + held, x, y];
          return row.map((value, c) => (c > 0 && (i * 7 + c * 13) % 50 === 0 ? Number.NaN : value));
        });
      },
      6,
    ),
  ];
}

/**
 * Score alarm states against labels over the monitoring rows (from `from`).
 * @example
 * const score = scoreAlarms(rows.map((row) => row.anomaly), scenario.labels, scenario.trainRows);
 */
export function scoreAlarms(alarms: ArrayLike<number>, labels: ArrayLike<number>, from: number): ScenarioScore {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let normal = 0;
  let faulty = 0;
  let onset = -1;
  let delay: number | null = null;
  for (let r = from; r < labels.length; r++) {
    const alarm = alarms[r] === 1;
    const label = labels[r] === 1;
    if (label && onset < 0) onset = r;
    if (label && alarm && delay === null) delay = r - onset;
    if (label) faulty++;
    else normal++;
    if (alarm && label) tp++;
    else if (alarm) fp++;
    else if (label) fn++;
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  return {
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    precision,
    recall,
    falseAlarmRate: normal > 0 ? fp / normal : 0,
    missedAlarmRate: faulty > 0 ? fn / faulty : 0,
    onsetDelay: delay,
  };
}
