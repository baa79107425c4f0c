import { z } from 'zod';
import type {
  AssetHistoryPort,
  ChangeSummary,
  Deviation,
  ProductionContext,
  ProductionContextPort,
  Reading,
  WorkOrderSummary,
} from '../core/index.ts';
import {
  type AlarmInput,
  type AlarmManagerConfig,
  type AlarmManagerEvent,
  type AlarmManagerState,
  activeAlarms,
  closeGroup,
  createAlarmPolicy,
  DEFAULT_INTAKE_PARAMS,
  type DetectorBank,
  type DetectorCondition,
  type IntakeParams,
  type IntakeState,
  initialAlarmManagerState,
  initialIntakeState,
  intakeAlarm,
  type ManagedAlarm,
  type ManagedAlarmEvent,
  markFlood,
  stepAlarmManager,
  type TagSettings,
  touchGroup,
} from '../detection/index.ts';
import type { AlarmLayerWrite, AlarmStore, CaseStore, ReadingStore } from '../store/index.ts';
import { type DetectorStateStore, detectorStateRecord, restoreDetectorState } from './detector-state.ts';
import { inSpan, type Span } from './observability/tracing.ts';

/** A message for operators and Slack: one per case outside a flood, one digest per flood. */
export type PipelineNotice =
  | { type: 'case.opened'; caseId: string; title: string; priority: string; area: string | null }
  | {
      type: 'flood.digest';
      phase: 'started' | 'ended';
      floodId: string;
      area: string;
      caseId: string | null;
      alarms: number;
      tags: string[];
      text: string;
    };

export interface PipelineDeps {
  readings: ReadingStore;
  cases: CaseStore;
  bank: DetectorBank;
  /** Called when a new case opened; triage starts there. */
  onCaseOpened(caseId: string): void;
  log(line: string): void;
  /**
   * Alarm persistence (instances, activations for the KPIs, floods, approvals) and alarm-based case intake. Without it
   * the alarm layer still filters, but annunciated alarms go through `cases.recordDeviation` (grouped by tag).
   */
  alarms?: AlarmStore;
  /** Alarm settings: priorities, assets and criticality, delays, deadbands, suppression by design, chattering, flood. */
  alarmConfig?: AlarmManagerConfig;
  intake?: Partial<IntakeParams>;
  /** Product, lot or batch and order when no context message arrived for the line (ERP/MES connector). */
  productionContext?: ProductionContextPort;
  /** Recent work orders and changes of an asset, for the case context. */
  assetHistory?: AssetHistoryPort;
  notify?(notice: PipelineNotice): void;
  /**
   * Detector bank persistence: restored at start before the first batch is scored (when taken under the same
   * `fingerprint`, see bankFingerprint), saved every `everySeconds` or `everyReadings` readings, and on `flush`.
   */
  detectorState?: { store: DetectorStateStore; fingerprint: string; everySeconds?: number; everyReadings?: number };
  /** Row of the saved alarm-layer state; a scale-out worker keeps one per partition. Default `pipeline`. */
  alarmStateId?: string;
}

export interface PipelineStats {
  readings: number;
  deviations: number;
  alarms: number;
  casesOpened: number;
  floods: number;
}

/** Operator commands on alarms, as the alarms API uses them. */
export interface AlarmControl {
  /** Step one alarm with a command; time is the latest reading time the pipeline has seen. */
  command(
    key: string,
    command: DistributiveOmit<Exclude<AlarmInput, { type: 'condition' | 'tick' }>, 'time'>,
  ): Promise<AlarmManagerEvent[]>;
  active(): ManagedAlarm[];
  /** The longest timed shelve allowed for an alarm. */
  maxShelveSeconds(key: string): number;
  /** Apply an approved tuning request's limit to the live detector bank (kept until restart). */
  tune(tag: string, settings: TagSettings): void;
}

/** One step of the alarm layer while it is decided: what it writes, and what happens once that is written. */
interface AlarmStep {
  writes: AlarmLayerWrite[];
  /** Cases this step opens: not in the database yet, and active. */
  opened: Set<string>;
  /** Counters, logs, triage starts and notices, run once the step is written. */
  after: Array<() => void>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const HISTORY_DAYS = 14;

/** The saved working state of the alarm layer (checked on restore, since the store returns plain JSON). */
const AlarmLayerSnapshot = z.object({
  version: z.literal(1),
  manager: z.object({
    alarms: z.record(
      z.string(),
      z.object({ record: z.object({ key: z.string(), state: z.string() }).loose() }).loose(),
    ),
    raises: z.record(z.string(), z.array(z.object({ time: z.string(), key: z.string() }))),
    floods: z.record(z.string(), z.object({ id: z.string(), area: z.string(), startedAt: z.string() }).loose()),
  }),
  intake: z.object({ groups: z.record(z.string(), z.object({ id: z.string(), keys: z.array(z.string()) }).loose()) }),
  caseOfGroup: z.array(z.tuple([z.string(), z.string()])),
  caseOfKey: z.record(z.string(), z.string()),
  latestTime: z.string().nullable(),
});
type AlarmLayerSnapshot = {
  version: 1;
  manager: AlarmManagerState;
  intake: IntakeState;
  caseOfGroup: [string, string][];
  caseOfKey: Record<string, string>;
  latestTime: string | null;
};

/**
 * The path of a reading: store it, score it with the detectors, run the ISA-18.2 alarm layer over the detectors'
 * conditions, and turn annunciated alarms into cases, grouping related alarms (same asset, related tags, one flood) into
 * one case with its production context. Production context (product, lot, order) arrives per line from the plant or
 * from the production-context port.
 */
export function createPipeline(deps: PipelineDeps) {
  const contexts = new Map<string, ProductionContext & { scope: string }>();
  const stats: PipelineStats = { readings: 0, deviations: 0, alarms: 0, casesOpened: 0, floods: 0 };
  const policy = createAlarmPolicy(deps.alarmConfig);
  const intakeParams: IntakeParams = { ...DEFAULT_INTAKE_PARAMS, ...deps.intake };
  let manager: AlarmManagerState = initialAlarmManagerState();
  let intake = initialIntakeState();
  const caseOfGroup = new Map<string, string>();
  const caseOfKey: Record<string, string> = {};
  const latestDeviation = new Map<string, Deviation>();
  let latestTime: string | null = null;
  /** Events (and held deviations) whose step failed to be written: handled again, first, with the next step. */
  let unwritten: { events: AlarmManagerEvent[]; held: Deviation[] } = { events: [], held: [] };
  let chain: Promise<unknown> = Promise.resolve();
  /** The readings insert of the last batch, possibly still running. */
  let writing: Promise<void> = Promise.resolve();
  /** The batch `writing` stores, until its insert is known to have succeeded. */
  let writingBatch: Reading[] | null = null;
  /** The detector snapshot being written (one at a time, in order); its failure is logged, never thrown. */
  let savingDetectors: Promise<void> = Promise.resolve();
  let readingsSinceSave = 0;
  let lastSaveAt = Date.now();

  const contextFor = (tag: string): ProductionContext => {
    let best: (ProductionContext & { scope: string }) | undefined;
    for (const [scope, context] of contexts) {
      if ((tag === scope || tag.startsWith(`${scope}.`)) && (!best || scope.length > best.scope.length)) best = context;
    }
    if (!best) return {};
    const { scope, ...context } = best;
    return { ...context, line: scope };
  };

  const caseContext = async (event: ManagedAlarmEvent): Promise<ProductionContext> => {
    const alarm = manager.alarms[event.key];
    let context: ProductionContext = contextFor(event.tag);
    if (context.product === undefined && deps.productionContext) {
      const found = await deps.productionContext
        .contextAt({ tag: event.tag, asset: event.asset, area: event.area }, event.time)
        .catch(() => null);
      if (found) context = { ...context, ...found };
    }
    let workOrders: WorkOrderSummary[] = [];
    let recentChanges: ChangeSummary[] = [];
    if (event.asset !== null && deps.assetHistory) {
      const since = new Date(Date.parse(event.time) - HISTORY_DAYS * 86_400_000).toISOString();
      [workOrders, recentChanges] = await Promise.all([
        deps.assetHistory.recentWorkOrders(event.asset, since, event.time).catch(() => []),
        deps.assetHistory.recentChanges(event.asset, since, event.time).catch(() => []),
      ]);
    }
    return {
      ...context,
      ...(event.asset === null ? {} : { asset: event.asset }),
      ...(event.area === null ? {} : { area: event.area }),
      ...(alarm ? { criticality: alarm.criticality } : {}),
      workOrders,
      recentChanges,
    };
  };

  /**
   * Case intake for one annunciated alarm: join the related open case or open one. What it writes goes into `step`,
   * written with the rest of the step (and the alarm state that names the case) in one transaction.
   */
  const intakeRaise = async (event: ManagedAlarmEvent & { type: 'alarm.raised' }, step: AlarmStep): Promise<void> => {
    const deviation = event.deviation ? latestDeviation.get(event.deviation.id) : undefined;
    if (!deps.alarms) {
      if (!deviation) return;
      const recorded = await deps.cases.recordDeviation(deviation, contextFor(deviation.tag));
      if (recorded.opened)
        step.after.push(() => {
          stats.casesOpened += 1;
          deps.onCaseOpened(recorded.caseId);
        });
      return;
    }
    const input = {
      key: event.key,
      tag: event.tag,
      asset: event.asset,
      area: event.area,
      time: event.time,
      related: event.related,
      floodId: event.floodId,
    };
    let result = intakeAlarm(intakeParams, intake, input);
    const joined = caseOfGroup.get(result.decision.groupId);
    if (!result.decision.opened && joined && !step.opened.has(joined) && !(await deps.alarms.caseIsActive(joined))) {
      // the related case was closed meanwhile: this alarm starts a new one
      intake = closeGroup(intake, result.decision.groupId);
      caseOfGroup.delete(result.decision.groupId);
      result = intakeAlarm(intakeParams, intake, input);
    }
    intake = result.state;
    let caseId = caseOfGroup.get(result.decision.groupId);
    if (caseId === undefined) {
      const message = event.deviation?.message ?? `${event.detector}/${event.rule}`;
      const opened = deps.alarms.newCaseId();
      caseId = opened;
      step.writes.push({
        type: 'case.open',
        caseId: opened,
        title: `${event.tag}: ${message}`,
        severity: event.deviation?.severity ?? 'medium',
        area: event.area,
        tags: [...new Set([event.tag, ...event.related])],
        context: await caseContext(event),
        alarmKey: event.key,
      });
      step.opened.add(opened);
      caseOfGroup.set(result.decision.groupId, opened);
      step.after.push(() => {
        stats.casesOpened += 1;
        deps.log(`case ${opened} opened: ${event.tag} ${event.detector}/${event.rule} (${event.priority} priority)`);
        deps.onCaseOpened(opened);
        if (event.floodId === null)
          deps.notify?.({
            type: 'case.opened',
            caseId: opened,
            title: message,
            priority: event.priority,
            area: event.area,
          });
      });
    } else {
      step.writes.push({ type: 'case.join', caseId, tags: [event.tag, ...event.related] });
    }
    caseOfKey[event.key] = caseId;
    if (deviation) step.writes.push({ type: 'deviation', deviation, caseId });
  };

  const floodDigest = (
    phase: 'started' | 'ended',
    event: AlarmManagerEvent & { type: 'flood.started' | 'flood.ended' },
  ): PipelineNotice => {
    const tags = [...new Set(event.keys.map((key) => manager.alarms[key]?.tag ?? key))];
    const caseId = event.keys.map((key) => caseOfKey[key]).find((id) => id !== undefined) ?? null;
    return {
      type: 'flood.digest',
      phase,
      floodId: event.floodId,
      area: event.area,
      caseId,
      alarms: event.keys.length,
      tags,
      text:
        phase === 'started'
          ? `Alarm flood in ${event.area}: ${event.keys.length} alarms within 10 minutes on ${tags.length} tags (${tags.slice(0, 5).join(', ')}${tags.length > 5 ? ', …' : ''}); grouped into case ${caseId ?? '(pending)'}.`
          : `Alarm flood in ${event.area} is over: ${event.keys.length} alarms on ${tags.length} tags since ${event.type === 'flood.ended' ? event.startedAt : ''}; see case ${caseId ?? '(none)'}.`,
    };
  };

  /** Decide what one event of the alarm manager does: intake, floods, deviations; written later with the step. */
  const plan = async (event: AlarmManagerEvent, step: AlarmStep) => {
    if (event.type === 'alarm.raised') {
      step.after.push(() => {
        stats.alarms += 1;
      });
      await intakeRaise(event, step);
    } else if (event.type === 'alarm.repeated') {
      intake = touchGroup(intake, event.key, event.time);
    } else if (
      event.type === 'alarm.cleared' ||
      event.type === 'alarm.shelved' ||
      event.type === 'alarm.suppressed' ||
      event.type === 'alarm.removed_from_service'
    ) {
      // no longer active: it stops holding its case's group open
      intake = touchGroup(intake, event.key, event.time, false);
    }
    if (event.type === 'alarm.repeated' && event.deviation) {
      const deviation = latestDeviation.get(event.deviation.id);
      if (deviation && deps.alarms)
        step.writes.push({ type: 'deviation', deviation, caseId: caseOfKey[event.key] ?? null });
      else if (deviation && !deps.alarms) await deps.cases.recordDeviation(deviation, contextFor(deviation.tag));
    } else if (event.type === 'flood.started') {
      intake = markFlood(intake, event.area, event.floodId, event.keys);
      const caseId = event.keys.map((key) => caseOfKey[key]).find((id) => id !== undefined);
      if (caseId && deps.alarms)
        step.writes.push({
          type: 'case.join',
          caseId,
          tags: [],
          flood: { id: event.floodId, area: event.area, startedAt: event.time },
        });
      const notice = floodDigest('started', event);
      step.after.push(() => {
        stats.floods += 1;
        deps.log(`alarm flood in ${event.area}: ${event.keys.length} alarms in 10 minutes`);
        deps.notify?.(notice);
      });
    } else if (event.type === 'flood.ended') {
      const notice = floodDigest('ended', event);
      step.after.push(() => deps.notify?.(notice));
    }
  };

  /**
   * Persist and act on what the alarm manager reported, in order: the cases opened and joined, the deviations (also
   * `held` ones, of alarms that are shelved, suppressed or out of service), the alarms and the alarm layer's state are
   * written in one transaction (`AlarmStore.commit`), and only then are triage started and notices sent. When the write
   * fails, nothing of it happened: the intake decisions are undone and the events handled again with the next step.
   */
  const handle = async (fresh: readonly AlarmManagerEvent[], freshHeld: readonly Deviation[] = []) => {
    const events = [...unwritten.events, ...fresh];
    const held = [...unwritten.held, ...freshHeld];
    const before = { intake, caseOfGroup: [...caseOfGroup], caseOfKey: { ...caseOfKey } };
    const step: AlarmStep = { writes: [], opened: new Set(), after: [] };
    try {
      for (const event of events) await plan(event, step);
      for (const deviation of held) step.writes.push({ type: 'deviation', deviation, caseId: null });
      await deps.alarms?.commit({
        writes: step.writes,
        events,
        alarms: manager.alarms,
        caseOf: caseOfKey,
        state: events.length > 0 ? { snapshot: alarmLayerSnapshot(), id: deps.alarmStateId } : null,
      });
    } catch (error) {
      intake = before.intake;
      caseOfGroup.clear();
      for (const [group, caseId] of before.caseOfGroup) caseOfGroup.set(group, caseId);
      for (const key of Object.keys(caseOfKey)) delete caseOfKey[key];
      Object.assign(caseOfKey, before.caseOfKey);
      unwritten = { events, held };
      throw error;
    }
    unwritten = { events: [], held: [] };
    for (const effect of step.after) effect();
  };

  /**
   * Write a step whose write failed, before a detector snapshot that holds the samples behind it is saved: the next
   * holder of the partition restores both, and they must agree.
   */
  const writeUnwritten = async () => {
    if (unwritten.events.length > 0 || unwritten.held.length > 0) await handle([]);
  };

  /** The alarm layer's working state, saved after every change and restored at start (see 0100_alarm_state.sql). */
  const alarmLayerSnapshot = (): AlarmLayerSnapshot => ({
    version: 1,
    manager,
    intake,
    caseOfGroup: [...caseOfGroup],
    caseOfKey: { ...caseOfKey },
    latestTime,
  });

  const step = (conditions: readonly DetectorCondition[], events: AlarmManagerEvent[]) => {
    for (const condition of conditions) {
      if (condition.deviation) {
        stats.deviations += 1;
        latestDeviation.set(condition.deviation.id, condition.deviation);
      }
      const result = stepAlarmManager(policy, manager, { type: 'condition', condition });
      manager = result.state;
      for (const event of result.events) events.push(event);
    }
  };

  /** Deviations of alarms that are shelved, suppressed or out of service: recorded, in no case. */
  const heldDeviations = (conditions: readonly DetectorCondition[]): Deviation[] => {
    if (!deps.alarms) return [];
    const held: Deviation[] = [];
    for (const condition of conditions) {
      if (!condition.deviation) continue;
      const state = manager.alarms[condition.key]?.record.state;
      if (state === 'shelved' || state === 'suppressed' || state === 'out_of_service') held.push(condition.deviation);
    }
    return held;
  };

  const process = (batch: Reading[]) =>
    inSpan('detection', { attributes: { 'andon.readings': batch.length } }, (span) => processBatch(batch, span));

  const processBatch = async (batch: Reading[], span: Span) => {
    // Write-behind: the readings insert runs while the batch is scored. At most one batch is written behind (the next
    // batch waits for it: backpressure up to ingest), and a case opens only once its readings are stored.
    const previous = writing;
    const previousBatch = writingBatch;
    writing = Promise.resolve();
    writingBatch = null;
    try {
      await previous;
    } catch (error) {
      // The last batch's insert failed (a database restart): write it again before this batch, and if that fails too,
      // keep it pending and fail this batch, which its caller retries; no batch is scored twice or stored never.
      if (!previousBatch) throw error;
      writing = deps.readings.insert(previousBatch).then(() => undefined);
      writingBatch = previousBatch;
      writing.catch(() => undefined);
      await writing;
      writingBatch = null;
    }
    const write = deps.readings.insert(batch).then(() => undefined);
    writing = write;
    writingBatch = batch;
    write.catch(() => undefined); // awaited below or by the next batch, which then fails and is retried by ingest
    stats.readings += batch.length;
    const events: AlarmManagerEvent[] = [];
    const conditions: DetectorCondition[] = [];
    const detectionStarted = performance.now();
    for (const reading of batch) {
      const scan = deps.bank.scan(reading);
      step(scan.conditions, events);
      for (const condition of scan.conditions) if (condition.deviation) conditions.push(condition);
      if (latestTime === null || Date.parse(reading.sourceTime) > Date.parse(latestTime))
        latestTime = reading.sourceTime;
    }
    if (latestTime !== null) {
      const heartbeat = deps.bank.scanTick(latestTime);
      step(heartbeat.conditions, events);
      for (const condition of heartbeat.conditions) if (condition.deviation) conditions.push(condition);
      const ticked = stepAlarmManager(policy, manager, { type: 'tick', time: latestTime });
      manager = ticked.state;
      events.push(...ticked.events);
    }
    span.setAttribute('andon.detector.seconds', (performance.now() - detectionStarted) / 1000);
    readingsSinceSave += batch.length;
    const every = deps.detectorState;
    if (
      every &&
      (readingsSinceSave >= (every.everyReadings ?? 100_000) ||
        Date.now() - lastSaveAt >= (every.everySeconds ?? 30) * 1000)
    )
      void saveDetectorState().catch(() => undefined);
    if (events.length > 0 || unwritten.events.length > 0) await write;
    await handle(events, heldDeviations(conditions));
    if (latestDeviation.size > 1000) latestDeviation.clear();
  };

  /** Run `work` after everything queued before it, so that alarm state changes stay in order. */
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  };

  /** Resume from the saved alarm state: acknowledgements, shelves, floods and the case of each live alarm survive. */
  const restoreAlarmState = async (): Promise<void> => {
    const tunings = await deps.alarms?.approvedTunings().catch((error: Error) => {
      deps.log(
        `approved tuning changes could not be read (${error.message}); detectors run with their configured limits`,
      );
      return [];
    });
    for (const tuning of tunings ?? [])
      deps.bank.configure(tuning.tag, { [tuning.setting]: { [tuning.parameter]: tuning.proposed } } as TagSettings);
    if (tunings?.length)
      deps.log(`re-applied ${tunings.length} approved tuning change(s): ${tunings.map((t) => t.id).join(', ')}`);
    const saved = await deps.alarms?.loadState(deps.alarmStateId).catch((error: Error) => {
      deps.log(`alarm state: could not be read (${error.message}); starting with no alarms`);
      return null;
    });
    if (!saved) return;
    const parsed = AlarmLayerSnapshot.safeParse(saved.snapshot);
    if (!parsed.success) {
      deps.log(
        `alarm state saved at ${saved.savedAt} is not readable (${parsed.error.issues[0]?.message}); starting with no alarms`,
      );
      return;
    }
    const snapshot = parsed.data as AlarmLayerSnapshot;
    manager = snapshot.manager;
    intake = snapshot.intake;
    for (const [group, caseId] of snapshot.caseOfGroup) caseOfGroup.set(group, caseId);
    Object.assign(caseOfKey, snapshot.caseOfKey);
    latestTime = snapshot.latestTime;
    deps.log(
      `alarm state restored from ${saved.savedAt}: ${activeAlarms(manager).length} alarms not normal, ${Object.keys(manager.floods).length} floods`,
    );
  };
  /**
   * Taken synchronously (a consistent state between batches), written behind the scoring. The promise rejects when
   * the write failed (only `checkpoint` awaits that); the failure is logged either way.
   */
  const saveDetectorState = (): Promise<void> => {
    const persistence = deps.detectorState;
    if (!persistence) return Promise.resolve();
    const record = detectorStateRecord(deps.bank, persistence.fingerprint, persistence.store.partition.count);
    const sourceTime = latestTime;
    readingsSinceSave = 0;
    lastSaveAt = Date.now();
    const saving = savingDetectors.then(() => persistence.store.save(record, sourceTime));
    savingDetectors = saving.catch((error: Error) =>
      deps.log(`detector state: saving failed (${error.message}); retried at the next save`),
    );
    saving.catch(() => undefined);
    return saving;
  };

  /** Resume calibration and run lengths from the saved detector bank state (see app/detector-state.ts). */
  const restoreBankState = async (): Promise<void> => {
    const persistence = deps.detectorState;
    if (!persistence) return;
    const saved = await persistence.store.load().catch((error: Error) => {
      deps.log(`detector state: could not be read (${error.message}); the detectors calibrate afresh`);
      return null;
    });
    if (!saved) return;
    deps.log(restoreDetectorState(deps.bank, persistence.fingerprint, saved, persistence.store.partition).message);
  };
  chain = restoreAlarmState().then(restoreBankState);

  const control: AlarmControl = {
    command: (key, command) =>
      serial(async () => {
        const time = latestTime ?? new Date().toISOString();
        const result = stepAlarmManager(policy, manager, {
          type: 'command',
          key,
          command: { ...command, time } as Exclude<AlarmInput, { type: 'condition' | 'tick' }>,
        });
        manager = result.state;
        await handle(result.events);
        return result.events;
      }),
    active: () => activeAlarms(manager),
    maxShelveSeconds: (key) => policy.params(key, 'low').maxShelveSeconds,
    tune: (tag, settings) => {
      deps.bank.configure(tag, settings);
      deps.log(`detector settings of ${tag} changed by an approved tuning request: ${JSON.stringify(settings)}`);
    },
  };

  return {
    stats: () => ({ ...stats }),
    setContext(context: { scope: string; product: string; lot: string; order: string }) {
      contexts.set(context.scope, {
        scope: context.scope,
        product: context.product,
        lot: context.lot,
        order: context.order,
      });
    },
    onReadings: (batch: Reading[]): Promise<void> => serial(() => process(batch)),
    /**
     * Resolves once every batch taken so far is scored, its readings are stored and the detector state is saved (call
     * before closing the database).
     */
    flush: (): Promise<void> =>
      serial(async () => {
        await writing;
        await writeUnwritten().catch((error: Error) =>
          deps.log(
            `alarm layer: a step could not be written (${error.message}); its alarms are raised again on replay`,
          ),
        );
        await saveDetectorState().catch(() => undefined);
      }),
    /**
     * Like `flush`, but rejects when the readings, a failed step of the alarm layer or the detector state could not be
     * stored. A scale-out worker acknowledges samples to the broker only after this resolved, so the next holder of the
     * partition restores a state that contains every acknowledged sample (app/workers/partitions.ts).
     */
    checkpoint: (): Promise<void> =>
      serial(async () => {
        await writing;
        await writeUnwritten();
        await saveDetectorState();
      }),
    /** Operator commands on alarms (acknowledge, shelve after approval, suppress, out of service). */
    alarms: control,
    /** The alarm manager's state (every alarm it knows, floods in progress). */
    alarmState: (): AlarmManagerState => manager,
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;

/**
 * The sandbox CMMS and change log of the demo plant, until a real connector fills the ports: a few plausible work orders
 * and changes per asset, dated relative to the time asked about, so every case shows its context.
 */
export function createSandboxAssetHistory(): AssetHistoryPort & ProductionContextPort {
  const daysBefore = (until: string, days: number) => new Date(Date.parse(until) - days * 86_400_000).toISOString();
  const workOrders: Record<string, Array<[number, string, string]>> = {
    'packaging.line1': [
      [3, 'Replace sealing jaw thermocouple TC-101', 'completed'],
      [9, 'Preventive maintenance: film unwind brake', 'completed'],
    ],
    'reactor.r1': [[5, 'Recalibrate head pressure transmitter PT-201', 'completed']],
  };
  const changes: Record<string, Array<[number, string, string]>> = {
    'packaging.line1': [[2, 'material', 'Film supplier lot changed to F-2291']],
    'reactor.r1': [[6, 'recipe', 'Resin R-200 recipe v14: react phase 2 min longer']],
  };
  return {
    async recentWorkOrders(asset, since, until) {
      return (workOrders[asset] ?? [])
        .map(([days, title, status], i) => ({
          id: `WO-SANDBOX-${asset}-${i + 1}`,
          asset,
          title,
          status,
          at: daysBefore(until, days),
        }))
        .filter((order) => order.at >= since);
    },
    async recentChanges(asset, since, until) {
      return (changes[asset] ?? [])
        .map(([days, kind, description], i) => ({
          id: `MOC-SANDBOX-${asset}-${i + 1}`,
          asset,
          kind,
          description,
          at: daysBefore(until, days),
        }))
        .filter((change) => change.at >= since);
    },
    async contextAt(scope) {
      if (scope.asset === 'packaging.line1') return { product: 'SKU-4711 cereal bar 6-pack', order: 'PO-100000' };
      if (scope.asset === 'reactor.r1') return { product: 'Resin R-200', batch: 'B-SANDBOX', order: 'PO-200001' };
      return null;
    },
  };
}
