/**
 * Alarm manager cost per step (issue #4): `stepAlarmManager`, which updates its state in place, against
 * `stepAlarmManagerReference`, which copies the state on every change (the manager before the change), on the same
 * inputs in the same run. With 100 and 1000 tags (one alarm each, ten areas, every alarm known before timing starts),
 * two workloads:
 *
 * - transitions: every step changes an alarm (raise, acknowledge, clear, repeat), a tick every 50 steps;
 * - ingest: what the pipeline feeds it, 90 % quiet conditions and 10 % transitions, a tick every 100 steps.
 *
 * Each round runs both on a fresh copy of the warmed-up state; rounds alternate (default 5) and are timed by this
 * process's CPU time, so a loaded machine skews both alike; the figure is the median per step and the ratio is
 * reference / in place. Both must give the same number of events, or the script fails.
 *
 * Usage: node --import tsx bench/alarm-manager.ts [--json] [--rounds N]
 */
import {
  type AlarmManagerEvent,
  type AlarmManagerInput,
  type AlarmManagerState,
  type AlarmPolicy,
  createAlarmPolicy,
  createRandom,
  initialAlarmManagerState,
  stepAlarmManager,
  stepAlarmManagerReference,
} from '../detection/index.ts';

type Step = typeof stepAlarmManager;

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 5;
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a whole number of at least 1`);

const T0 = Date.UTC(2025, 0, 1);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
const tagOf = (index: number) => `area${index % 10}.unit${Math.floor(index / 10) % 10}.signal${index}`;

function condition(tag: string, active: boolean, seconds: number): AlarmManagerInput {
  const time = at(seconds);
  return {
    type: 'condition',
    condition: {
      key: `${tag}:ewma:limit`,
      tag,
      detector: 'ewma',
      rule: 'limit',
      active,
      statistic: active ? 4 : 0,
      limits: { lower: -3, center: 0, upper: 3 },
      time,
      ...(active
        ? { deviation: { id: `${tag}@${time}`, severity: 'high' as const, message: `${tag} drifted`, value: 4 } }
        : {}),
    },
  };
}

/** Warm-up (every alarm raised and cleared once) and the timed inputs of one workload. */
function workload(tags: number, name: 'transitions' | 'ingest') {
  const random = createRandom(tags + (name === 'ingest' ? 1 : 0));
  const warmup: AlarmManagerInput[] = [];
  for (let i = 0; i < tags; i++) warmup.push(condition(tagOf(i), true, i));
  for (let i = 0; i < tags; i++) warmup.push(condition(tagOf(i), false, tags + i));
  warmup.push({ type: 'tick', time: at(3 * tags) });
  const active = new Array<boolean>(tags).fill(false);
  const timed: AlarmManagerInput[] = [];
  let seconds = 3 * tags + 3600;
  const steps = name === 'transitions' ? 2000 : 10_000;
  const tickEvery = name === 'transitions' ? 50 : 100;
  for (let step = 1; step <= steps; step++) {
    seconds += 1;
    const tag = Math.floor(random() * tags);
    if (step % tickEvery === 0) timed.push({ type: 'tick', time: at(seconds) });
    else if (name === 'ingest' && random() < 0.9) timed.push(condition(tagOf(tag), active[tag]!, seconds));
    else {
      const roll = random();
      if (active[tag] && roll < 0.3)
        timed.push({
          type: 'command',
          key: `${tagOf(tag)}:ewma:limit`,
          command: { type: 'acknowledge', time: at(seconds), by: 'operator' },
        });
      else if (active[tag] && roll < 0.5)
        timed.push(condition(tagOf(tag), true, seconds)); // a repeat
      else {
        active[tag] = !active[tag];
        timed.push(condition(tagOf(tag), active[tag]!, seconds));
      }
    }
  }
  return { warmup, timed };
}

const cpuSeconds = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

function run(step: Step, policy: AlarmPolicy, start: AlarmManagerState, inputs: readonly AlarmManagerInput[]) {
  let state = start;
  let events = 0;
  let last: AlarmManagerEvent[] = [];
  const began = process.cpuUsage();
  for (const input of inputs) {
    const result = step(policy, state, input);
    state = result.state;
    events += result.events.length;
    last = result.events;
  }
  return { seconds: cpuSeconds(began), events, last };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const rows: {
  tags: number;
  workload: string;
  steps: number;
  referenceMicros: number;
  inPlaceMicros: number;
  ratio: number;
}[] = [];
for (const tags of [100, 1000]) {
  for (const name of ['transitions', 'ingest'] as const) {
    const policy = createAlarmPolicy();
    const { warmup, timed } = workload(tags, name);
    let warm = initialAlarmManagerState();
    for (const input of warmup) warm = stepAlarmManagerReference(policy, warm, input).state;
    const snapshot = JSON.stringify(warm);
    const reference: number[] = [];
    const inPlace: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const a = run(stepAlarmManagerReference, policy, JSON.parse(snapshot), timed);
      const b = run(stepAlarmManager, policy, JSON.parse(snapshot), timed);
      if (a.events !== b.events || JSON.stringify(a.last) !== JSON.stringify(b.last))
        throw new Error(
          `${name} with ${tags} tags: the two managers gave different events (${a.events} and ${b.events})`,
        );
      reference.push(a.seconds / timed.length);
      inPlace.push(b.seconds / timed.length);
    }
    const referenceMicros = median(reference) * 1e6;
    const inPlaceMicros = median(inPlace) * 1e6;
    rows.push({
      tags,
      workload: name,
      steps: timed.length,
      referenceMicros,
      inPlaceMicros,
      ratio: referenceMicros / inPlaceMicros,
    });
  }
}

if (args.includes('--json')) console.log(JSON.stringify({ rounds, rows }));
else {
  console.log(`alarm manager, µs per step (CPU time, median of ${rounds} alternating rounds)`);
  console.log('tags  workload     steps   reference (copies)  in place  ratio');
  for (const row of rows)
    console.log(
      `${String(row.tags).padStart(4)}  ${row.workload.padEnd(11)}  ${String(row.steps).padStart(5)}  ${row.referenceMicros.toFixed(2).padStart(18)}  ${row.inPlaceMicros.toFixed(2).padStart(8)}  ${row.ratio.toFixed(1).padStart(5)}×`,
    );
}
