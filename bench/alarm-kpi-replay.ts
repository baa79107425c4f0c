/**
 * The 24-hour acceptance replay of alarm management: a seeded plant day with eleven injected faults (one of them a
 * flood-causing upset of the whole packaging line) driven through the same pipeline code as `npm start` (store,
 * detectors, ISA-18.2 alarm layer, case intake) in simulated time, with no wall-clock waiting. The simulator is passed
 * in, so that tests can load its plant model without the OPC UA server.
 */

import { createPipeline, createSandboxAssetHistory, type PipelineNotice } from '../app/index.ts';
import type { Clock, Reading } from '../core/index.ts';
import {
  type AlarmKpiReport,
  type AlarmManagerConfig,
  type BankOptions,
  createDetectorBank,
  formatKpiTable,
} from '../detection/index.ts';
import type { InjectedFault, Plant, PlantOptions, Scenario, ScenarioInput } from '../simulator/index.ts';
import { createAlarmStore, createCaseStore, createReadingStore, type Database, openDatabase } from '../store/index.ts';

const HOUR = 360; // samples of 10 s

/** Eleven faults, about two hours apart, then a flood-causing upset on every packaging signal at once. */
export const KPI_REPLAY_SCENARIO: ScenarioInput = {
  name: 'alarm-kpi-day',
  description: 'A day of packaging line 1 and batch reactor 1 at 10 s samples with eleven faults and one upset.',
  seed: 7,
  equipment: ['packaging-line', 'batch-reactor'],
  faults: [
    {
      kind: 'drift',
      tag: 'packaging.line1.seal_temperature',
      startSample: 1.5 * HOUR,
      durationSamples: 60,
      magnitude: 0.15,
    },
    { kind: 'step', tag: 'packaging.line1.seal_pressure', startSample: 3 * HOUR, durationSamples: 60, magnitude: 3 },
    { kind: 'stuck', tag: 'packaging.line1.film_tension', startSample: 5 * HOUR, durationSamples: 60 },
    {
      kind: 'variance',
      tag: 'packaging.line1.seal_temperature',
      startSample: 7 * HOUR,
      durationSamples: 60,
      magnitude: 3,
    },
    {
      kind: 'cycle-instability',
      tag: 'packaging.line1.cycle_time',
      startSample: 9 * HOUR,
      durationSamples: 60,
      magnitude: 4,
    },
    { kind: 'dropout', tag: 'reactor.r1.pressure', startSample: 11 * HOUR, durationSamples: 30 },
    { kind: 'bad-quality', tag: 'reactor.r1.temperature', startSample: 13 * HOUR, durationSamples: 20 },
    { kind: 'step', tag: 'packaging.line1.film_tension', startSample: 15 * HOUR, durationSamples: 90, magnitude: -4 },
    { kind: 'drift', tag: 'packaging.line1.cycle_time', startSample: 17 * HOUR, durationSamples: 90, magnitude: 0.1 },
    { kind: 'stuck', tag: 'packaging.line1.seal_pressure', startSample: 19 * HOUR, durationSamples: 60 },
    // the upset: every packaging signal steps at once (a line trip), which floods the packaging area
    ...(
      [
        ['packaging.line1.seal_temperature', 8],
        ['packaging.line1.seal_pressure', 8],
        ['packaging.line1.cycle_time', 8],
        ['packaging.line1.film_tension', -8],
      ] as const
    ).map(([tag, magnitude]) => ({
      kind: 'step' as const,
      tag,
      startSample: 21 * HOUR,
      durationSamples: 60,
      magnitude,
      note: 'line upset',
    })),
  ],
};

/**
 * Detector settings of the replay plant, as a site would configure them: the reactor follows its batch recipe, so its
 * values are watched by sensor health only (phase-aware models are future work), and the reject counter is a count.
 */
export const KPI_REPLAY_BANK_OPTIONS: BankOptions = {
  shewhart: false,
  groups: [
    {
      match: 'reactor.r1.*',
      settings: { ewma: false, cusum: false, rateOfChange: false, flatline: false },
    },
    {
      match: 'packaging.line1.reject_count',
      settings: { ewma: false, cusum: false, rateOfChange: false, flatline: false },
    },
  ],
};

export const KPI_REPLAY_ALARM_CONFIG: AlarmManagerConfig = {
  assets: [
    { match: 'packaging.line1.*', asset: 'packaging.line1', area: 'packaging', criticality: 'medium' },
    { match: 'reactor.r1.*', asset: 'reactor.r1', area: 'reactor', criticality: 'high' },
  ],
  rules: [{ match: 'reactor.r1.phase:*', settings: { suppressedByDesign: true } }],
};

export type ReplayCase = { id: string; createdAt: string; tags: string[]; title: string; flood: boolean };

export type ReplayResult = {
  from: string;
  to: string;
  faults: InjectedFault[];
  /** Injected incidents: faults that start together form one (the upset). */
  incidents: { startTime: string; endTime: string; tags: string[]; description: string; cases: string[] }[];
  cases: ReplayCase[];
  unexplained: ReplayCase[];
  report: AlarmKpiReport;
  notices: PipelineNotice[];
  stats: ReturnType<ReturnType<typeof createPipeline>['stats']>;
  seconds: number;
};

export type ReplayOptions = {
  createPlant: (options: PlantOptions) => Plant;
  parseScenario: (input: unknown) => Scenario;
  scenario?: ScenarioInput;
  /** Samples to replay; default 24 h. */
  samples?: number;
  intervalMs?: number;
  startTime?: Date;
  database?: Database;
  /** Samples handed to the pipeline at once; default one minute's worth. */
  batchSamples?: number;
  bankOptions?: BankOptions;
  alarmConfig?: AlarmManagerConfig;
  /** Also hand each notice to this (e.g. the Slack wiring); the result lists them either way. */
  notify?: (notice: PipelineNotice) => void;
};

/** Replay the scenario through the pipeline and match the cases it opened to the injected faults. */
export async function replayAlarmDay(options: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const scenario = options.parseScenario(options.scenario ?? KPI_REPLAY_SCENARIO);
  const intervalMs = options.intervalMs ?? 10_000;
  const samples = options.samples ?? 86_400_000 / intervalMs;
  const startTime = options.startTime ?? new Date('2025-03-03T00:00:00.000Z');
  let now = startTime;
  const clock: Clock = { now: () => now };
  const database = options.database ?? (await openDatabase({ dataDir: 'memory://alarm-kpi' }));
  try {
    const alarms = createAlarmStore(database, clock);
    const cases = createCaseStore(database, clock);
    const notices: PipelineNotice[] = [];
    const history = createSandboxAssetHistory();
    const pipeline = createPipeline({
      readings: createReadingStore(database),
      cases,
      bank: createDetectorBank(options.bankOptions ?? KPI_REPLAY_BANK_OPTIONS),
      alarms,
      alarmConfig: options.alarmConfig ?? KPI_REPLAY_ALARM_CONFIG,
      productionContext: history,
      assetHistory: history,
      onCaseOpened: () => {},
      notify: (notice) => {
        notices.push(notice);
        options.notify?.(notice);
      },
      log: () => {},
    });
    const plant = options.createPlant({ scenario, seed: scenario.seed ?? 1, intervalMs, startTime });
    const faults: InjectedFault[] = [];
    // one minute of samples per batch, as MQTT ingest hands over what arrived meanwhile
    const batchSamples = options.batchSamples ?? Math.max(1, Math.round(60_000 / intervalMs));
    let batch: Reading[] = [];
    for (let i = 0; i < samples; i++) {
      const sample = plant.step();
      now = new Date(sample.time);
      faults.push(...sample.faultsStarted);
      for (const context of sample.contexts) pipeline.setContext(context);
      batch.push(...sample.readings);
      if ((i + 1) % batchSamples === 0 || i === samples - 1) {
        await pipeline.onReadings(batch);
        batch = [];
      }
    }
    const to = new Date(startTime.getTime() + samples * intervalMs).toISOString();
    const from = startTime.toISOString();
    const report = await alarms.report({ from, to });
    const opened = (await cases.list({ limit: 500 })).map((item) => ({
      id: item.id,
      createdAt: item.createdAt,
      tags: item.tags,
      title: item.title,
      flood: item.context.flood !== undefined,
    }));
    opened.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const byStart = new Map<string, InjectedFault[]>();
    for (const fault of faults) byStart.set(fault.startTime, [...(byStart.get(fault.startTime) ?? []), fault]);
    const windowMs = 30 * 60_000;
    const incidents = [...byStart.values()].map((group) => {
      const startTime = group[0]!.startTime;
      const endSample = Math.max(...group.map((fault) => fault.endSample ?? samples));
      const endTime = new Date(Date.parse(startTime) + (endSample - group[0]!.startSample) * intervalMs).toISOString();
      const tags = group.map((fault) => fault.tag);
      const assets = new Set(tags.map((tag) => tag.split('.').slice(0, 2).join('.')));
      const matched = opened.filter(
        (item) =>
          Date.parse(item.createdAt) >= Date.parse(startTime) &&
          Date.parse(item.createdAt) <= Date.parse(endTime) + windowMs &&
          item.tags.some((tag) => assets.has(tag.split('.').slice(0, 2).join('.'))),
      );
      return {
        startTime,
        endTime,
        tags,
        description: group.map((fault) => fault.description).join('; '),
        cases: matched.map((item) => item.id),
      };
    });
    const explained = new Set(incidents.flatMap((incident) => incident.cases));
    return {
      from,
      to,
      faults,
      incidents,
      cases: opened,
      unexplained: opened.filter((item) => !explained.has(item.id)),
      report,
      notices,
      stats: pipeline.stats(),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    if (!options.database) await database.close();
  }
}

/** The replay's outcome as text: fault-to-case table, KPI table, flood digests. */
export function formatReplay(result: ReplayResult): string {
  const lines = [
    `Replayed ${result.from} – ${result.to}: ${result.stats.readings} readings, ${result.stats.deviations} deviations, ${result.stats.alarms} alarms, ${result.cases.length} cases, ${result.stats.floods} flood(s) in ${result.seconds.toFixed(1)} s`,
    '',
    '| injected at | fault | cases |',
    '| --- | --- | --- |',
    ...result.incidents.map(
      (incident) =>
        `| ${incident.startTime.slice(11, 19)} | ${incident.description} | ${incident.cases.length} ${incident.cases.join(', ')} |`,
    ),
    '',
    `Cases not explained by an injected fault: ${result.unexplained.length}${result.unexplained.map((item) => `\n  ${item.createdAt} ${item.title}`).join('')}`,
    '',
    formatKpiTable(result.report),
  ];
  const digests = result.notices.filter((notice) => notice.type === 'flood.digest');
  if (digests.length > 0)
    lines.push('', 'Flood digests (one message per flood phase):', ...digests.map((notice) => `  ${notice.text}`));
  return lines.join('\n');
}
