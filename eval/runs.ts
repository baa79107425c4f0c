import type { Database } from '../store/index.ts';
import type { GateFailure } from './gate.ts';
import { type Metrics, Report } from './report.ts';

/** A stored run as the Evals page lists it (without the per-case results). */
export interface StoredRun {
  id: string;
  createdAt: string;
  configHash: string;
  datasetHash: string;
  model: string;
  drafterModel: string;
  promptVersions: Record<string, string>;
  gitCommit: string | null;
  cases: number;
  metrics: Metrics;
  slices: Record<string, Metrics>;
  gatePassed: boolean | null;
  gateFailures: string[];
}

interface RunRow {
  id: string;
  created_at: Date;
  config_hash: string;
  dataset_hash: string;
  model: string;
  drafter_model: string;
  prompt_versions: Record<string, string>;
  git_commit: string | null;
  cases: number;
  metrics: Metrics;
  slices: Record<string, Metrics>;
  gate_passed: boolean | null;
  gate_failures: string[];
}

const toRun = (row: RunRow): StoredRun => ({
  id: row.id,
  createdAt: row.created_at.toISOString(),
  configHash: row.config_hash,
  datasetHash: row.dataset_hash,
  model: row.model,
  drafterModel: row.drafter_model,
  promptVersions: row.prompt_versions,
  gitCommit: row.git_commit,
  cases: row.cases,
  metrics: row.metrics,
  slices: row.slices,
  gatePassed: row.gate_passed,
  gateFailures: row.gate_failures,
});

const columns = `id, created_at, config_hash, dataset_hash, model, drafter_model, prompt_versions, git_commit, cases,
  metrics, slices, gate_passed, gate_failures`;

/** Eval runs in the andon database (migration 0030_eval_runs.sql). */
export function createEvalRunStore(database: Database) {
  return {
    /** Store a run; storing the same run id again changes nothing. */
    async save(report: Report, gate: GateFailure[] | null = null): Promise<void> {
      await database.query(
        `insert into eval_runs (id, created_at, config_hash, dataset_hash, model, drafter_model, prompt_versions, git_commit,
           cases, metrics, slices, gate_passed, gate_failures, report)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         on conflict (id) do nothing`,
        [
          report.runId,
          report.createdAt,
          report.configHash,
          report.dataset.hash,
          report.config.model,
          report.config.drafter.model,
          JSON.stringify(report.config.promptVersions),
          report.gitCommit,
          report.metrics.cases,
          JSON.stringify(report.metrics),
          JSON.stringify(report.slices),
          gate === null ? null : gate.length === 0,
          JSON.stringify((gate ?? []).map((failure) => failure.message)),
          JSON.stringify(report),
        ],
      );
    },
    /** The latest runs, newest first. */
    async list(limit = 50): Promise<StoredRun[]> {
      const result = await database.query<RunRow>(
        `select ${columns} from eval_runs order by created_at desc, id limit $1`,
        [Math.min(limit, 500)],
      );
      return result.rows.map(toRun);
    },
    /** One run with its full report. */
    async get(id: string): Promise<{ run: StoredRun; report: Report } | null> {
      const result = await database.query<RunRow & { report: unknown }>(
        `select ${columns}, report from eval_runs where id = $1`,
        [id],
      );
      const row = result.rows[0];
      return row ? { run: toRun(row), report: Report.parse(row.report) } : null;
    },
  };
}

export type EvalRunStore = ReturnType<typeof createEvalRunStore>;
