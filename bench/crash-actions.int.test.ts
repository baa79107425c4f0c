import { describe, expect, it } from 'vitest';
import { formatReport, runCrashTest } from './crash-actions.ts';

const databaseUrl = process.env.ANDON_TEST_DATABASE_URL;

/**
 * The crash test in small: kill -9 of the action pipeline at random moments, then a clean drain. On the PostgreSQL of
 * ANDON_TEST_DATABASE_URL (CI) ten kills; without it two, on a file-backed PGlite directory (each start is slower).
 * The 50-run figure is `andon bench crash-actions` (docs/actions.md); the 100-run one is `npm run test:reliability`.
 */
describe('kill -9 during action delivery', () => {
  it('leaves exactly one sandbox ERP effect per approved action', async () => {
    const report = await runCrashTest(databaseUrl ? { runs: 10, databaseUrl } : { runs: 2, minMs: 2500, maxMs: 5000 });
    console.log(formatReport(report));
    expect(report.result.approved_actions).toBeGreaterThan(0);
    expect(report.result.actions_with_exactly_one_effect).toBe(report.result.approved_actions);
    expect(report.result.effects).toBe(report.result.approved_actions);
    expect(report.result.effects_without_action).toBe(0);
    expect(report.ok).toBe(true);
  }, 600_000);
});

describe('kill -9 during triage', () => {
  it('closes every case whose deviation was acknowledged, with exactly one effect per approved action', async () => {
    // one run aimed at each triage window: the deviation, gathering evidence, drafting, awaiting approval, approved
    const report = await runCrashTest({ runs: 5, triage: true, databaseUrl });
    console.log(formatReport(report));
    expect(report.acknowledgedCases).toBeGreaterThan(0);
    expect(report.lostCases).toEqual([]);
    expect(report.result.cases_not_closed).toEqual([]);
    expect(report.result.actions_with_exactly_one_effect).toBe(report.result.approved_actions);
    expect(report.result.effects).toBe(report.result.approved_actions);
    expect(report.result.cases_with_repeated_effect_of_a_type).toBe(0);
    expect(report.ok).toBe(true);
  }, 900_000);
});
