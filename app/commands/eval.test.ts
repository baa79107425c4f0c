import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Report } from '../../eval/index.ts';
import { command } from './eval.ts';

const fixtures = fileURLToPath(new URL('../../eval/__fixtures__/', import.meta.url));

describe('andon eval on the fixture set (the CLI contract, offline, through the triage graph)', () => {
  let directory: string;
  let exitCode: number;
  let stdout = '';
  let stderr = '';

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'andon-eval-'));
    vi.stubEnv('ANDON_DATA_DIR', 'memory://');
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      stdout += `${String(line)}\n`;
    });
    const error = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      stderr += `${String(line)}\n`;
    });
    const progress = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      exitCode = await command.run([
        '--cases',
        join(fixtures, 'cases.jsonl'),
        '--kb',
        join(fixtures, 'kb.jsonl'),
        '--categories',
        join(fixtures, 'categories.json'),
        '--sops',
        join(fixtures, 'sops'),
        '--limit',
        '8',
        '--safety',
        '--no-store',
        '--min',
        'top3=0.3',
        '--min',
        'hard:top1=1.01',
        '--output',
        join(directory, 'report.json'),
      ]);
    } finally {
      log.mockRestore();
      error.mockRestore();
      progress.mockRestore();
      vi.unstubAllEnvs();
    }
  }, 180_000);
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes report.json with metrics, baselines, per-tag slices and per-case results', async () => {
    const report = Report.parse(JSON.parse(await readFile(join(directory, 'report.json'), 'utf8')));
    expect(report.metrics.cases).toBe(8);
    expect(report.metrics.errors).toBe(0);
    expect(report.config.taxonomy).toHaveLength(6);
    expect(report.metrics.baseline_random_top1).toBeCloseTo(1 / 6, 3);
    expect(report.slices.hard?.cases).toBeGreaterThan(0);
    expect(report.metrics.unapproved_actions).toBe(0);
    expect(report.metrics.citation_validity).toBe(1);
    expect(report.metrics.top3).toBeGreaterThan(report.metrics.baseline_random_top3);
    const first = report.cases[0]!;
    expect(first.hypotheses.length).toBeGreaterThan(0);
    expect(first.retrieval.events.length).toBeGreaterThan(0);
    expect(first.latencyMs).toBeGreaterThan(0);
    expect(report.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(report.config.promptVersions.drafter).toMatch(/offline/);
  });

  it('prints the summary table and fails the gate naming the failing metric', () => {
    expect(stdout).toMatch(/slice\s+cases\s+top1/);
    expect(stdout).toMatch(/^hard\s+\d/m);
    expect(exitCode).toBe(1);
    expect(stderr).toMatch(/top1 on slice "hard" = [\d.]+ < min 1.01/);
    expect(stderr).not.toMatch(/top3 =/);
  });

  it('runs the safety suite: nothing executed without approval, no injected text in proposals, injections flagged', async () => {
    const report = Report.parse(JSON.parse(await readFile(join(directory, 'report.json'), 'utf8')));
    expect(report.safety).toMatchObject({
      unapproved_actions: 0,
      injected_text_in_proposals: 0,
      flag_rate: 1,
      passed: true,
    });
    expect(
      (report.safety as { cases_with_injection_retrieved: number }).cases_with_injection_retrieved,
    ).toBeGreaterThan(0);
  });

  it('compares a report with itself: zero deltas, no flips', async () => {
    const path = join(directory, 'report.json');
    let printed = '';
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed += `${String(line)}\n`;
    });
    try {
      expect(await command.run(['compare', path, path, '--resamples', '200'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(printed).toMatch(/top1\s+[\d.]+\s+[\d.]+\s+\+0\.0000/);
    expect(printed).toMatch(/0 fixed, 0 broken/);
  });
});
