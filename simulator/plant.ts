import { AndonError, type Quality, type Reading } from '../core/index.ts';
import { createRandom, type Random } from './random.ts';
import type { Equipment, FaultKind, FaultSpec, Scenario, SignalOverride } from './scenario.ts';

/** One simulated signal: AR(1) noise of stationary σ `sigma` around a level that follows its setpoint. */
export interface SignalSpec {
  tag: string;
  unit: string;
  /** Setpoint at start, engineering units. */
  setpoint: number;
  sigma: number;
  /** AR(1) coefficient of the noise: 0 is white noise, near 1 slow wandering. */
  phi: number;
  decimals: number;
  /** Samples for the level to close 63 % of a setpoint change (first-order lag); 0 jumps at once. */
  lagSamples: number;
  /** Clamp, for physical limits (a flow is never negative). */
  min?: number;
  /** Counts are Poisson draws with mean `setpoint` instead of AR(1) noise. */
  counter?: boolean;
  description: string;
}

export interface InjectedFault {
  kind: FaultKind;
  tag: string;
  startSample: number;
  /** Source time of the first affected sample. */
  startTime: string;
  /** First sample no longer affected; unset when it lasts to the end. */
  endSample?: number;
  magnitude?: number;
  description: string;
}

export interface ContextMessage {
  /** Tag prefix the context applies to, e.g. `packaging.line1`. */
  scope: string;
  product: string;
  lot: string;
  order: string;
  time: string;
}

export interface PlantSample {
  index: number;
  time: string;
  readings: Reading[];
  contexts: ContextMessage[];
  faultsStarted: InjectedFault[];
}

/** Batch reactor phases and the numeric code published on `reactor.r1.phase`. */
export const reactorPhases = [
  { code: 1, name: 'charge', samples: 20 },
  { code: 2, name: 'heat', samples: 30 },
  { code: 3, name: 'react', samples: 60 },
  { code: 4, name: 'cool', samples: 30 },
  { code: 5, name: 'discharge', samples: 15 },
] as const;
type PhaseName = (typeof reactorPhases)[number]['name'];
const batchSamples = reactorPhases.reduce((sum, phase) => sum + phase.samples, 0);

const reactorSetpoints: Record<PhaseName, Record<string, number>> = {
  charge: { temperature: 25, pressure: 1.0, agitator_speed: 60, feed_a_flow: 500, feed_b_flow: 250 },
  heat: { temperature: 85, pressure: 1.3, agitator_speed: 120, feed_a_flow: 0, feed_b_flow: 0 },
  react: { temperature: 85, pressure: 2.5, agitator_speed: 150, feed_a_flow: 0, feed_b_flow: 50 },
  cool: { temperature: 30, pressure: 1.1, agitator_speed: 100, feed_a_flow: 0, feed_b_flow: 0 },
  discharge: { temperature: 30, pressure: 1.0, agitator_speed: 40, feed_a_flow: 0, feed_b_flow: 0 },
};

/** The signals of each simulated unit. Tags are `<area>.<line>.<signal>`; MQTT topics `<prefix>/<area>/<line>/<signal>`. */
export const equipmentSignals: Record<Equipment, SignalSpec[]> = {
  'packaging-line': [
    {
      tag: 'packaging.line1.seal_temperature',
      unit: '°C',
      setpoint: 180,
      sigma: 0.5,
      phi: 0.3,
      decimals: 2,
      lagSamples: 5,
      description: 'Sealing jaw temperature',
    },
    {
      tag: 'packaging.line1.seal_pressure',
      unit: 'bar',
      setpoint: 4.2,
      sigma: 0.05,
      phi: 0.3,
      decimals: 3,
      lagSamples: 0,
      description: 'Sealing jaw pressure',
    },
    {
      tag: 'packaging.line1.cycle_time',
      unit: 's',
      setpoint: 2.0,
      sigma: 0.02,
      phi: 0.2,
      decimals: 3,
      lagSamples: 0,
      min: 0.5,
      description: 'Machine cycle time',
    },
    {
      tag: 'packaging.line1.film_tension',
      unit: 'N',
      setpoint: 120,
      sigma: 1.5,
      phi: 0.5,
      decimals: 2,
      lagSamples: 8,
      description: 'Film web tension',
    },
    {
      tag: 'packaging.line1.reject_count',
      unit: 'count',
      setpoint: 0.05,
      sigma: Math.sqrt(0.05),
      phi: 0,
      decimals: 0,
      lagSamples: 0,
      counter: true,
      description: 'Packs rejected during the last sample interval',
    },
  ],
  'batch-reactor': [
    {
      tag: 'reactor.r1.temperature',
      unit: '°C',
      setpoint: 25,
      sigma: 0.3,
      phi: 0.6,
      decimals: 2,
      lagSamples: 8,
      description: 'Reactor jacket-controlled batch temperature',
    },
    {
      tag: 'reactor.r1.pressure',
      unit: 'bar',
      setpoint: 1.0,
      sigma: 0.02,
      phi: 0.5,
      decimals: 3,
      lagSamples: 6,
      min: 0,
      description: 'Reactor head pressure',
    },
    {
      tag: 'reactor.r1.agitator_speed',
      unit: 'rpm',
      setpoint: 60,
      sigma: 0.8,
      phi: 0.2,
      decimals: 1,
      lagSamples: 2,
      min: 0,
      description: 'Agitator speed',
    },
    {
      tag: 'reactor.r1.feed_a_flow',
      unit: 'kg/h',
      setpoint: 500,
      sigma: 4,
      phi: 0.4,
      decimals: 1,
      lagSamples: 1,
      min: 0,
      description: 'Feed A mass flow',
    },
    {
      tag: 'reactor.r1.feed_b_flow',
      unit: 'kg/h',
      setpoint: 250,
      sigma: 2,
      phi: 0.4,
      decimals: 1,
      lagSamples: 1,
      min: 0,
      description: 'Feed B mass flow',
    },
    {
      tag: 'reactor.r1.phase',
      unit: 'phase',
      setpoint: 1,
      sigma: 0,
      phi: 0,
      decimals: 0,
      lagSamples: 0,
      description: 'Batch phase: 1 charge, 2 heat, 3 react, 4 cool, 5 discharge',
    },
  ],
};

export interface PlantOptions {
  scenario: Scenario;
  seed: number;
  intervalMs: number;
  startTime: Date;
}

export interface Plant {
  signals: readonly SignalSpec[];
  /** Advances one sample period and returns what the plant measured. */
  step(): PlantSample;
}

interface SignalState {
  spec: SignalSpec;
  random: Random;
  faultRandom: Random;
  setpoint: number;
  level: number;
  noise: number;
  last: number;
}

const definedOnly = (value: SignalOverride | undefined): { setpoint?: number; sigma?: number; phi?: number } =>
  Object.fromEntries(Object.entries(value ?? {}).filter(([, item]) => item !== undefined));

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
};

function poisson(random: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let product = random.next();
  let count = 0;
  while (product > limit) {
    count++;
    product *= random.next();
  }
  return count;
}

const faultDescription = (fault: FaultSpec, spec: SignalSpec): string => {
  const magnitude = `${fault.magnitude ?? ''}`;
  switch (fault.kind) {
    case 'drift':
      return `drift on ${fault.tag}: +${magnitude} σ per sample (${round((fault.magnitude ?? 0) * spec.sigma, 4)} ${spec.unit}/sample)`;
    case 'step':
      return `step on ${fault.tag}: ${magnitude} σ (${round((fault.magnitude ?? 0) * spec.sigma, 4)} ${spec.unit})`;
    case 'stuck':
      return `stuck sensor on ${fault.tag}: the value freezes`;
    case 'variance':
      return `variance increase on ${fault.tag}: σ × ${magnitude}`;
    case 'cycle-instability':
      return `cycle-time instability on ${fault.tag}: σ × ${magnitude} with spikes`;
    case 'dropout':
      return `sensor dropout on ${fault.tag}: no samples`;
    case 'bad-quality':
      return `bad quality codes on ${fault.tag}: quality ${fault.quality}`;
  }
};

const defaultMagnitude: Record<FaultKind, number | undefined> = {
  drift: 0.15,
  step: 3,
  stuck: undefined,
  variance: 3,
  'cycle-instability': 3,
  dropout: undefined,
  'bad-quality': undefined,
};

/**
 * The simulated plant as a pure, seeded state machine: the same scenario, seed, interval and start time give the same
 * samples. Every tag has its own random stream, so adding a unit or a fault leaves the other tags' noise unchanged.
 */
export function createPlant(options: PlantOptions): Plant {
  const { scenario, seed, intervalMs } = options;
  const specs = scenario.equipment.flatMap((unit) =>
    equipmentSignals[unit].map((spec) => ({ ...spec, ...definedOnly(scenario.signals[spec.tag]) })),
  );
  const states = new Map<string, SignalState>(
    specs.map((spec) => [
      spec.tag,
      {
        spec,
        random: createRandom(seed, spec.tag),
        faultRandom: createRandom(seed, `${spec.tag}#fault`),
        setpoint: spec.setpoint,
        level: spec.setpoint,
        noise: 0,
        last: spec.setpoint,
      },
    ]),
  );
  const known = () => [...states.keys()].join(', ');
  const referenced = [
    ...scenario.faults.map((fault) => fault.tag),
    ...scenario.setpoints.map((change) => change.tag),
    ...Object.keys(scenario.signals),
    ...scenario.omit,
  ];
  for (const tag of referenced) {
    if (!states.has(tag)) {
      throw new AndonError(
        'invalid_config',
        `Scenario ${scenario.name} refers to tag ${tag}, which its equipment does not have. Known tags: ${known()}.`,
      );
    }
  }
  const faults = scenario.faults.map((fault) => ({
    ...fault,
    magnitude: fault.magnitude ?? defaultMagnitude[fault.kind],
    stuckAt: undefined as number | undefined,
  }));
  const omitted = new Set(scenario.omit);
  const hasReactor = scenario.equipment.includes('batch-reactor');
  const hasLine = scenario.equipment.includes('packaging-line');
  const startMillis = options.startTime.getTime();
  let index = 0;

  const phaseAt = (sample: number) => {
    let offset = sample % batchSamples;
    for (const phase of reactorPhases) {
      if (offset < phase.samples) return phase;
      offset -= phase.samples;
    }
    return reactorPhases[0];
  };

  return {
    signals: specs,
    step() {
      const time = new Date(startMillis + index * intervalMs).toISOString();
      const readings: Reading[] = [];
      const faultsStarted: InjectedFault[] = [];
      const contexts: ContextMessage[] = [];

      for (const change of scenario.setpoints) {
        if (change.atSample === index) states.get(change.tag)!.setpoint = change.value;
      }
      const phase = phaseAt(index);
      if (hasReactor) {
        for (const [signal, value] of Object.entries(reactorSetpoints[phase.name])) {
          states.get(`reactor.r1.${signal}`)!.setpoint = value;
        }
        states.get('reactor.r1.phase')!.setpoint = phase.code;
      }

      for (const state of states.values()) {
        const { spec } = state;
        const active = faults.filter(
          (fault) =>
            fault.tag === spec.tag &&
            index >= fault.startSample &&
            (fault.durationSamples === undefined || index < fault.startSample + fault.durationSamples),
        );
        for (const fault of active) {
          if (fault.startSample !== index) continue;
          faultsStarted.push({
            kind: fault.kind,
            tag: fault.tag,
            startSample: index,
            startTime: time,
            ...(fault.durationSamples === undefined ? {} : { endSample: fault.startSample + fault.durationSamples }),
            ...(fault.magnitude === undefined ? {} : { magnitude: fault.magnitude }),
            description: faultDescription(fault, spec) + (fault.note === undefined ? '' : ` (${fault.note})`),
          });
        }

        state.level =
          spec.lagSamples <= 0
            ? state.setpoint
            : state.level + (state.setpoint - state.level) * (1 - Math.exp(-1 / spec.lagSamples));
        let widen = 1;
        let offset = 0;
        let quality: Quality = 'good';
        let dropped = false;
        let stuck: number | undefined;
        for (const fault of active) {
          const elapsed = index - fault.startSample;
          switch (fault.kind) {
            case 'drift':
              offset += (fault.magnitude ?? 0) * spec.sigma * (elapsed + 1);
              break;
            case 'step':
              offset += (fault.magnitude ?? 0) * spec.sigma;
              break;
            case 'variance':
              widen *= fault.magnitude ?? 1;
              break;
            case 'cycle-instability':
              widen *= fault.magnitude ?? 1;
              if (state.faultRandom.next() < 0.15) {
                offset += Math.abs(state.faultRandom.normal()) * (fault.magnitude ?? 1) * 2 * spec.sigma;
              }
              break;
            case 'stuck':
              fault.stuckAt ??= state.last;
              stuck = fault.stuckAt;
              break;
            case 'dropout':
              dropped = true;
              break;
            case 'bad-quality':
              quality = fault.quality;
              break;
          }
        }

        let value: number;
        if (spec.counter) {
          value = poisson(state.random, Math.max(0, state.setpoint * widen + offset));
        } else {
          const innovation = state.random.normal() * spec.sigma * Math.sqrt(1 - spec.phi * spec.phi);
          state.noise = spec.phi * state.noise + innovation * widen;
          value = state.level + state.noise + offset;
        }
        if (spec.min !== undefined) value = Math.max(spec.min, value);
        value = round(stuck ?? value, spec.decimals);
        state.last = value;
        if (dropped || omitted.has(spec.tag)) continue;
        readings.push({ tag: spec.tag, value, sourceTime: time, quality, unit: spec.unit });
      }

      if (index % scenario.contextEverySamples === 0) {
        const lot = Math.floor(index / scenario.lotEverySamples) + 1;
        const day = time.slice(0, 10).replaceAll('-', '');
        if (hasLine) {
          contexts.push({
            scope: 'packaging.line1',
            product: 'SKU-4711 cereal bar 6-pack',
            lot: `L${day}-${String(lot).padStart(3, '0')}`,
            order: `PO-${100_000 + Math.floor(index / (scenario.lotEverySamples * 4))}`,
            time,
          });
        }
        if (hasReactor) {
          const batch = Math.floor(index / batchSamples) + 1;
          contexts.push({
            scope: 'reactor.r1',
            product: 'Resin R-200',
            lot: `B${day}-${String(batch).padStart(3, '0')}`,
            order: `PO-${200_000 + batch}`,
            time,
          });
        }
      }

      index++;
      return { index: index - 1, time, readings, contexts, faultsStarted };
    },
  };
}
