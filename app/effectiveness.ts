import type { Clock, Deviation, SignalHistoryPort } from '../core/index.ts';
import { type BankOptions, createDetectorBank, estimateAutoModel } from '../detection/index.ts';
import type {
  EffectivenessCheckInput,
  EffectivenessCheckPort,
  EffectivenessResult,
  SignalVerdict,
  Triage,
  TriagePorts,
} from '../graph/index.ts';
import { indexIncident, type KnowledgeBase } from '../knowledge/index.ts';
import type { CaseStore, EffectivenessStore, ReadingStore } from '../store/index.ts';
import { loadApprovalPolicy } from './approval-policy.ts';
import type { Config } from './config.ts';
import { startPoller } from './poller.ts';

export interface EffectivenessCheckOptions {
  signals: SignalHistoryPort;
  /** The detector settings andon runs with (the same detectors that raised the case). */
  bank: BankOptions;
  /** Minutes of readings before the first deviation that form the in-control baseline. Default 60. */
  baselineMinutes?: number;
  /** Good readings needed after the action for a verdict. Default 30. */
  minSamples?: number;
  now?: () => Date;
}

const round = (value: number | null, digits = 4) => (value === null ? null : Number(value.toPrecision(digits)));

/**
 * The effectiveness check: for each tag that raised the case, the same detectors (the configured bank, with the tag's
 * in-control model estimated from the baseline before the first deviation) score every reading since the action. A
 * detector that raised the case alarming again means the CAPA was not effective; too few readings (or no baseline)
 * means there is not enough data to say.
 */
export function createEffectivenessCheck(options: EffectivenessCheckOptions): EffectivenessCheckPort {
  const baselineMs = (options.baselineMinutes ?? 60) * 60_000;
  const minSamples = options.minSamples ?? 30;
  return {
    async check(input: EffectivenessCheckInput): Promise<EffectivenessResult> {
      const byTag = new Map<string, Deviation[]>();
      for (const deviation of input.deviations)
        byTag.set(deviation.tag, [...(byTag.get(deviation.tag) ?? []), deviation]);
      const signals: SignalVerdict[] = [];
      for (const [tag, deviations] of byTag) {
        const first = new Date(Math.min(...deviations.map((deviation) => Date.parse(deviation.detectedAt))));
        const raisedBy = new Set(deviations.map((deviation) => deviation.detector));
        const baseline = (
          await options.signals.window(tag, new Date(first.getTime() - baselineMs), first, 5000)
        ).filter((reading) => reading.quality === 'good' && Number.isFinite(reading.value));
        const after = (await options.signals.window(tag, input.from, input.to, 20_000)).filter(
          (reading) => reading.quality === 'good' && Number.isFinite(reading.value),
        );
        const detectors = [...new Set(deviations.map((deviation) => `${deviation.detector}:${deviation.rule}`))];
        const meanAfter =
          after.length > 0 ? after.reduce((sum, reading) => sum + reading.value, 0) / after.length : null;
        if (baseline.length < 10 || after.length < minSamples) {
          signals.push({
            tag,
            detectors,
            baselineSamples: baseline.length,
            samplesAfter: after.length,
            center: null,
            sigma: null,
            meanAfter: round(meanAfter),
            shiftSigmas: null,
            alarms: [],
            verdict: 'insufficient_data',
          });
          continue;
        }
        const model = estimateAutoModel(baseline.map((reading) => reading.value));
        const bank = createDetectorBank({
          ...options.bank,
          models: {
            [tag]: {
              mean: model.mean,
              sigma: model.sigma,
              shortTermSigma: model.shortTermSigma,
              autocorrelation: model.autocorrelation,
            },
          },
        });
        const alarms: SignalVerdict['alarms'] = [];
        for (const reading of after) {
          for (const deviation of bank.step(reading)) {
            if (!raisedBy.has(deviation.detector)) continue;
            alarms.push({
              detector: deviation.detector,
              rule: deviation.rule,
              at: deviation.detectedAt,
              message: deviation.message,
            });
          }
        }
        signals.push({
          tag,
          detectors,
          baselineSamples: baseline.length,
          samplesAfter: after.length,
          center: round(model.mean),
          sigma: round(model.sigma),
          meanAfter: round(meanAfter),
          shiftSigmas: meanAfter === null ? null : round((meanAfter - model.mean) / model.sigma, 3),
          alarms: alarms.slice(0, 20),
          verdict: alarms.length > 0 ? 'not_effective' : 'effective',
        });
      }
      const verdict: EffectivenessResult['verdict'] = signals.some((signal) => signal.verdict === 'not_effective')
        ? 'not_effective'
        : signals.length === 0 || signals.some((signal) => signal.verdict === 'insufficient_data')
          ? 'insufficient_data'
          : 'effective';
      const describe = (signal: SignalVerdict) =>
        signal.verdict === 'insufficient_data'
          ? `${signal.tag}: ${signal.samplesAfter} reading(s) after the action and ${signal.baselineSamples} before the deviation; need ${minSamples} and 10`
          : `${signal.tag}: ${signal.samplesAfter} readings after the action, mean ${signal.meanAfter} vs centre ${signal.center} (${signal.shiftSigmas} σ), ${signal.alarms.length === 0 ? `no alarm from ${signal.detectors.join(', ')}` : `${signal.alarms.length} alarm(s) again (${[...new Set(signal.alarms.map((alarm) => `${alarm.detector}:${alarm.rule}`))].join(', ')}), first at ${signal.alarms[0]!.at}`}`;
      const label = { effective: 'Effective', not_effective: 'Not effective', insufficient_data: 'Insufficient data' }[
        verdict
      ];
      return {
        verdict,
        checkedAt: (options.now ?? (() => new Date()))().toISOString(),
        from: input.from.toISOString(),
        to: input.to.toISOString(),
        signals,
        summary: `${label}: ${signals.map(describe).join('; ') || 'the case has no deviation to check'}.`,
      };
    },
  };
}

export interface EffectivenessPollerOptions {
  schedule: EffectivenessStore;
  triage: Triage;
  intervalMs?: number;
  now?: () => Date;
  log(line: string): void;
}

/**
 * Run the effectiveness checks that fell due: each wakes its case's waiting triage thread (which runs the detectors and
 * records the result). Rows are durable, so a check due while andon was down runs at the next start.
 */
export function startEffectivenessChecks(options: EffectivenessPollerOptions) {
  const now = options.now ?? (() => new Date());
  const sweep = async (): Promise<number> => {
    let ran = 0;
    for (const row of await options.schedule.due(now())) {
      try {
        const status = await options.triage.status(row.caseId);
        if (status?.waitingForEffectiveness && status.effectiveness?.round === row.round) {
          options.log(`case ${row.caseId}: effectiveness check round ${row.round} is due; checking`);
          await options.triage.checkEffectiveness(row.caseId, row.round);
          ran += 1;
        } else if (status && !status.waitingForDecision && status.next.length > 0) {
          // stopped between the wait and the check (a crash): finish the check
          await options.triage.continue(row.caseId);
          ran += 1;
        } else {
          await options.schedule.abandon(row.caseId, row.round, 'the case no longer waits for this check');
        }
      } catch (error) {
        options.log(`case ${row.caseId}: effectiveness check failed: ${(error as Error).message}`);
        await options.schedule.failed(row.caseId, row.round, (error as Error).message);
      }
    }
    return ran;
  };
  return startPoller('effectiveness checks', sweep, options);
}

/**
 * The triage ports past the approval gate, from the configuration: the approval policy the policy check applies, the
 * effectiveness check (the detectors andon runs with, on the reading store) and its durable schedule, the verification
 * period (EFFECTIVENESS_CHECK_HOURS), and the knowledge base that learns closed cases as incidents.
 */
export function lifecyclePorts(
  config: Pick<Config, 'EFFECTIVENESS_CHECK_HOURS' | 'APPROVAL_POLICY_FILE'>,
  stores: { readings: ReadingStore; effectivenessChecks: EffectivenessStore },
  knowledge: Pick<KnowledgeBase, 'add'>,
  clock: Clock,
): Pick<TriagePorts, 'policy' | 'effectiveness' | 'schedule' | 'verificationHours' | 'incidents'> {
  return {
    policy: loadApprovalPolicy(...(config.APPROVAL_POLICY_FILE ? [config.APPROVAL_POLICY_FILE] : [])),
    // the same settings as the detector bank of `andon start` (app/runtime.ts)
    effectiveness: createEffectivenessCheck({
      signals: stores.readings,
      bank: { shewhart: false },
      now: () => clock.now(),
    }),
    schedule: stores.effectivenessChecks,
    verificationHours: config.EFFECTIVENESS_CHECK_HOURS,
    incidents: {
      async index(incident) {
        const added = await indexIncident(knowledge, incident);
        return { documentId: added.documentId, status: added.outcome };
      },
    },
  };
}

/**
 * After a restart, continue threads that stopped after the approval (a crash between the hand-off and scheduling the
 * effectiveness check, or between the check and closing): the start-up recovery covers cases up to their approval,
 * and these cases are executing or already closed by the dispatcher. A thread that waits for its check stays waiting.
 */
export async function recoverAfterApproval(deps: { cases: CaseStore; triage: Triage; log(line: string): void }) {
  let continued = 0;
  for (const status of ['executing', 'closed'] as const) {
    for (const item of await deps.cases.list({ status, limit: 500 })) {
      try {
        const thread = await deps.triage.status(item.id);
        if (!thread || thread.waitingForDecision || thread.waitingForEffectiveness || thread.next.length === 0)
          continue;
        deps.log(`recovery: continuing triage of ${item.id} at ${thread.next.join(', ')}`);
        await deps.triage.continue(item.id);
        continued += 1;
      } catch (error) {
        deps.log(`recovery: ${item.id}: ${(error as Error).message}`);
      }
    }
  }
  return continued;
}
