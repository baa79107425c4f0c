import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AndonError, Quality } from '../core/index.ts';

export const FaultKind = z.enum(['drift', 'step', 'stuck', 'variance', 'cycle-instability', 'dropout', 'bad-quality']);
export type FaultKind = z.infer<typeof FaultKind>;

/**
 * One fault to inject. `magnitude` is in the tag's noise σ: per sample for a drift, once for a step, a factor on σ for
 * a variance increase or cycle-time instability. Stuck, dropout and bad-quality ignore it.
 */
export const FaultSpec = z.object({
  kind: FaultKind,
  tag: z.string().min(1),
  startSample: z.number().int().min(0),
  /** Unset: the fault lasts until the simulator stops. */
  durationSamples: z.number().int().min(1).optional(),
  magnitude: z.number().optional(),
  /** Quality code sent during a bad-quality fault. */
  quality: Quality.exclude(['good']).default('bad'),
  note: z.string().max(500).optional(),
});
export type FaultSpec = z.output<typeof FaultSpec>;

/** A planned setpoint change: the tag's mean moves to `value` (engineering units) from `atSample` on. */
export const SetpointChange = z.object({
  tag: z.string().min(1),
  atSample: z.number().int().min(0),
  value: z.number(),
});
export type SetpointChange = z.infer<typeof SetpointChange>;

export const SignalOverride = z.object({
  setpoint: z.number().optional(),
  sigma: z.number().min(0).optional(),
  phi: z.number().min(0).max(0.99).optional(),
});
export type SignalOverride = z.infer<typeof SignalOverride>;

export const Equipment = z.enum(['packaging-line', 'batch-reactor']);
export type Equipment = z.infer<typeof Equipment>;

/** A simulated plant run, built in or read from a YAML file (see simulator/scenarios/). */
export const Scenario = z.object({
  name: z.string().min(1).max(100),
  description: z.string().max(2000).optional(),
  seed: z.number().int().optional(),
  equipment: z.array(Equipment).min(1).default(['packaging-line']),
  /** A production-context message (product, lot, order) goes out at start and every this many samples. */
  contextEverySamples: z.number().int().min(1).default(60),
  /** The lot number changes every this many samples. */
  lotEverySamples: z.number().int().min(1).default(600),
  setpoints: z.array(SetpointChange).default([]),
  /** Per-tag overrides of the built-in signal models (setpoint, σ, AR(1) φ). */
  signals: z.record(z.string(), SignalOverride).default({}),
  /** Tags not to publish at all (the unit still simulates them). */
  omit: z.array(z.string()).default([]),
  faults: z.array(FaultSpec).default([]),
});
export type Scenario = z.output<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;

export const builtInScenarios = {
  'drift-demo': {
    name: 'drift-demo',
    description:
      'Packaging line 1 runs normally for 33 samples (detectors calibrate on the first 30), then the seal temperature drifts up by 0.25 σ per sample, which an EWMA (λ 0.2, L 3) catches in about 13 samples.',
    equipment: ['packaging-line'],
    // Low autocorrelation and no reject counter (a count needs a c-chart, not an individuals chart), so that the
    // demo's auto-calibrated detectors stay quiet on the healthy tags.
    signals: {
      'packaging.line1.seal_temperature': { phi: 0.1 },
      'packaging.line1.seal_pressure': { phi: 0.1 },
      'packaging.line1.cycle_time': { phi: 0.1 },
      'packaging.line1.film_tension': { phi: 0.1 },
    },
    omit: ['packaging.line1.reject_count'],
    faults: [
      {
        kind: 'drift',
        tag: 'packaging.line1.seal_temperature',
        startSample: 33,
        magnitude: 0.25,
        note: 'heater controller thermocouple ageing',
      },
    ],
  },
  steady: {
    name: 'steady',
    description: 'Packaging line 1 and batch reactor 1 in control, no faults: for false-alarm rates.',
    equipment: ['packaging-line', 'batch-reactor'],
  },
  'fault-tour': {
    name: 'fault-tour',
    description: 'Both units, one fault of every kind, spaced so each can be caught on its own.',
    equipment: ['packaging-line', 'batch-reactor'],
    setpoints: [{ tag: 'packaging.line1.film_tension', atSample: 400, value: 125 }],
    faults: [
      { kind: 'drift', tag: 'packaging.line1.seal_temperature', startSample: 40, durationSamples: 60, magnitude: 0.15 },
      { kind: 'step', tag: 'packaging.line1.seal_pressure', startSample: 120, durationSamples: 60, magnitude: 3 },
      { kind: 'stuck', tag: 'packaging.line1.film_tension', startSample: 200, durationSamples: 60 },
      {
        kind: 'variance',
        tag: 'packaging.line1.seal_temperature',
        startSample: 280,
        durationSamples: 60,
        magnitude: 3,
      },
      {
        kind: 'cycle-instability',
        tag: 'packaging.line1.cycle_time',
        startSample: 360,
        durationSamples: 60,
        magnitude: 4,
      },
      { kind: 'dropout', tag: 'reactor.r1.pressure', startSample: 440, durationSamples: 30 },
      { kind: 'bad-quality', tag: 'reactor.r1.temperature', startSample: 500, durationSamples: 20, quality: 'bad' },
    ],
  },
} satisfies Record<string, ScenarioInput>;

export type BuiltInScenarioName = keyof typeof builtInScenarios;

const describeIssues = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/** Validates a scenario object (e.g. parsed YAML). */
export function parseScenario(input: unknown, origin = 'scenario'): Scenario {
  const parsed = Scenario.safeParse(input);
  if (!parsed.success) {
    throw new AndonError('invalid_config', `The simulator ${origin} is invalid (${describeIssues(parsed.error)}).`);
  }
  return parsed.data;
}

/**
 * A built-in scenario by name (`drift-demo`, `steady`, `fault-tour`) or a YAML file by path.
 *
 * @example
 * const scenario = await loadScenario('simulator/scenarios/fault-tour.yaml');
 */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  if (Object.hasOwn(builtInScenarios, nameOrPath)) {
    return parseScenario(builtInScenarios[nameOrPath as BuiltInScenarioName], `scenario ${nameOrPath}`);
  }
  if (!/\.ya?ml$/i.test(nameOrPath)) {
    throw new AndonError(
      'invalid_config',
      `Unknown simulator scenario "${nameOrPath}". Use one of ${Object.keys(builtInScenarios).join(', ')} or a path to a .yaml file (SIMULATOR_SCENARIO).`,
    );
  }
  let text: string;
  try {
    text = await readFile(nameOrPath, 'utf8');
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `Cannot read the simulator scenario file ${nameOrPath} (${String(error)}).`,
      {
        cause: error,
      },
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `The simulator scenario file ${nameOrPath} is not valid YAML (${error instanceof Error ? error.message : String(error)}).`,
      { cause: error },
    );
  }
  return parseScenario(document, `scenario file ${nameOrPath}`);
}
