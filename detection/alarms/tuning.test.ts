import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import { createDetectorBank } from '../bank.ts';
import type { BankOptions } from '../bank-settings.ts';
import { createNormalRandom } from '../random.ts';
import { proposeTuning } from './tuning.ts';

const TAG = 'line1.filler.weight';
const KEY = `${TAG}:shewhart:we1`;
const BASE = Date.parse('2025-04-01T00:00:00.000Z');
const at = (i: number) => new Date(BASE + i * 60_000).toISOString();
const settings: BankOptions = { ewma: false, cusum: false, rateOfChange: false, flatline: false, missingData: false };

/** A day of one reading a minute: noise with three lone spikes of 8 sigma, and a real 20-minute step of 20 sigma. */
function history(spike = 8, step = 20): { readings: Reading[]; spikes: number[]; stepAt: number } {
  const normal = createNormalRandom(5);
  const spikes = [300, 600, 900];
  const stepAt = 1200;
  const readings = Array.from({ length: 1440 }, (_, i) => {
    let value = 500 + normal();
    if (spikes.includes(i)) value += spike;
    if (i >= stepAt && i < stepAt + 20) value += step;
    return { tag: TAG, value, sourceTime: at(i), quality: 'good' as const };
  });
  return { readings, spikes, stepAt };
}

describe('tuning proposals from false-alarm dispositions', () => {
  it('proposes the smallest wider limit that removes the false alarms and still catches the true deviation', () => {
    const { readings, spikes, stepAt } = history();
    const outcome = proposeTuning({
      key: KEY,
      history: readings,
      settings,
      falseAlarms: spikes.map(at),
      trueDeviations: [at(stepAt)],
    });
    expect(outcome.proposal).not.toBeNull();
    const proposal = outcome.proposal!;
    expect(proposal).toMatchObject({
      detector: 'shewhart',
      rule: 'we1',
      setting: 'shewhart',
      parameter: 'L',
      current: 4.5,
    });
    expect(proposal.proposed).toBeGreaterThan(4.5);
    expect(proposal.backtest).toMatchObject({
      readings: 1440,
      falseAlarms: 3,
      falseAlarmsRemoved: 3,
      trueDeviations: 1,
      trueDeviationsKept: 1,
      alarmsAfter: 1,
    });
    expect(proposal.backtest.alarmsBefore).toBeGreaterThanOrEqual(4);
    expect(proposal.backtest.expectedReduction).toBeGreaterThanOrEqual(0.75);
    expect(proposal.summary).toMatch(
      /Widen shewhart L of line1\.filler\.weight from 4\.5 to [\d.]+: on 1440 stored readings/,
    );
    // the proposal holds when the bank is reconfigured live with it
    const bank = createDetectorBank(settings);
    bank.configure(TAG, { [proposal.setting]: { [proposal.parameter]: proposal.proposed } });
    const raised = readings.flatMap((reading) => bank.step(reading)).filter((d) => d.detector === 'shewhart');
    expect(raised.map((d) => d.detectedAt)).toEqual([at(stepAt)]);
  });

  it('starts from the configured limit of the tag', () => {
    const { readings, spikes } = history(9);
    const outcome = proposeTuning({
      key: KEY,
      history: readings,
      settings: { ...settings, tags: { [TAG]: { shewhart: { L: 5 } } } },
      falseAlarms: spikes.map(at),
      trueDeviations: [],
    });
    expect(outcome.proposal?.current).toBe(5);
    expect(outcome.proposal!.proposed).toBeGreaterThan(5);
  });

  it('proposes nothing, and says why, when no wider limit spares the true deviations', () => {
    const { readings, spikes, stepAt } = history(20, 6);
    const outcome = proposeTuning({
      key: KEY,
      history: readings,
      settings,
      falseAlarms: spikes.map(at),
      trueDeviations: [at(stepAt)],
    });
    expect(outcome.proposal).toBeNull();
    expect(outcome.proposal === null && outcome.reason).toMatch(
      /no widening .* while still catching its 1 true deviations/,
    );
  });

  it('refuses detectors without a limit and histories too short to backtest', () => {
    const { readings } = history();
    const flatline = proposeTuning({
      key: `${TAG}:sensor-health:flatline`,
      history: readings,
      settings,
      falseAlarms: [],
      trueDeviations: [],
    });
    expect(flatline.proposal === null && flatline.reason).toMatch(/sensor-health have no limit to widen/);
    const short = proposeTuning({
      key: KEY,
      history: readings.slice(0, 10),
      settings,
      falseAlarms: [],
      trueDeviations: [],
    });
    expect(short.proposal === null && short.reason).toMatch(/only 10 stored readings/);
  });
});
