import { describe, expect, it } from 'vitest';
import { KPI_REPLAY_ALARM_CONFIG, KPI_REPLAY_BANK_OPTIONS, replayAlarmDay } from '../bench/alarm-kpi-replay.ts';
import { createPlant } from '../simulator/plant.ts';
import { parseScenario } from '../simulator/scenario.ts';
import { driftThenUpset } from './__fixtures__/drift-then-upset.ts';

describe('pipeline with alarm management, replayed in simulated time', () => {
  it('opens exactly one case per injected fault, groups an upset into one flood case with one digest, and reports KPIs', async () => {
    const result = await replayAlarmDay({
      createPlant,
      parseScenario: (input) => parseScenario(input),
      intervalMs: 30_000,
      samples: 300,
      batchSamples: 30,
      bankOptions: KPI_REPLAY_BANK_OPTIONS,
      alarmConfig: KPI_REPLAY_ALARM_CONFIG,
      scenario: driftThenUpset('two-incidents'),
    });
    expect(result.incidents.map((incident) => incident.cases.length)).toEqual([1, 1]);
    expect(result.unexplained).toEqual([]);
    const upset = result.cases.find((item) => item.id === result.incidents[1]?.cases[0]);
    expect(upset?.flood).toBe(true);
    expect(upset?.tags).toHaveLength(4);
    expect(result.stats.floods).toBe(1);
    // a dozen alarms in the flood, but operators get the case and one digest per flood phase
    const digest = result.notices.find((notice) => notice.type === 'flood.digest');
    expect(digest?.type === 'flood.digest' && digest.alarms).toBeGreaterThan(10);
    expect(digest?.type === 'flood.digest' && digest.caseId).toBe(upset?.id);
    expect(
      result.notices.map((notice) => (notice.type === 'flood.digest' ? `digest ${notice.phase}` : notice.type)),
    ).toEqual(['case.opened', 'case.opened', 'digest started', 'digest ended']);
    expect(result.report.chattering).toBe(0);
    expect(result.report.stale).toBe(0);
    // a replay of 1,500 readings through PGlite: seconds on a quiet machine, minutes on a loaded one
  }, 600_000);
});
