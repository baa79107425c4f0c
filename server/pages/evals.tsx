/**
 * The Evals pages: stored runs with their metrics and provenance, one run with its per-tag slices and misses, and a
 * comparison of two runs with bootstrap confidence intervals and the flipped cases. Server-rendered, charts as SVG.
 */
import type { Comparison, Metrics, Report, StoredRun } from '../../eval/index.ts';
import type { User } from '../../store/index.ts';
import { requireUser } from '../auth.ts';
import { CompareQuery, compareRuns, type EvalsApiDeps, evalReaderRoles, loadRun } from '../evals-api.ts';
import { createAuthenticatedApp, parseInput, requireRole } from '../sub-app.ts';
import { Badge, Layout } from './layout.tsx';

const css = `
.table-wrap{overflow-x:auto}.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}svg.chart{margin-bottom:.8rem}
.compare-form{display:flex;flex-wrap:wrap;gap:.2rem 1rem;align-items:end}.compare-form div{min-width:14rem;flex:1}
select{font:inherit;padding:.45rem;border:1px solid #8c959f;border-radius:.3rem;width:100%;background:#fff}
select:focus-visible{outline:3px solid #fb8c00;outline-offset:2px}
.better{color:var(--ok);font-weight:600}.worse{color:var(--bad);font-weight:600}
code.hash{font-size:.85rem}
`;

type MetricKey = keyof Metrics;
/** The metrics the tables show, with how to print them. */
const shown: { key: MetricKey; label: string; kind: 'share' | 'count' | 'ms' }[] = [
  { key: 'top1', label: 'top-1', kind: 'share' },
  { key: 'top3', label: 'top-3', kind: 'share' },
  { key: 'mrr5', label: 'MRR@5', kind: 'share' },
  { key: 'hit_at_5', label: 'hit@5', kind: 'share' },
  { key: 'precision_at_10', label: 'precision@10', kind: 'share' },
  { key: 'citation_validity', label: 'citation validity', kind: 'share' },
  { key: 'capa_completeness', label: 'CAPA complete', kind: 'share' },
  { key: 'unapproved_actions', label: 'unapproved actions', kind: 'count' },
  { key: 'latency_p95_ms', label: 'latency p95', kind: 'ms' },
];

const format = (value: number | null | undefined, kind: 'share' | 'count' | 'ms'): string => {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (kind === 'share') return `${(value * 100).toFixed(1)} %`;
  if (kind === 'ms') return `${Math.round(value)} ms`;
  return String(value);
};

const when = (iso: string) => iso.replace('T', ' ').slice(0, 16);
const short = (hash: string | null, length = 10) => (hash ? hash.slice(0, length) : '–');

/** Top-1 and top-3 of each run (oldest left), beside the random baseline of the newest run. */
function RunsChart(props: { runs: StoredRun[] }) {
  const runs = [...props.runs].reverse().slice(-20);
  if (runs.length === 0) return null;
  const width = 900;
  const height = 220;
  const pad = { left: 44, right: 12, top: 14, bottom: 36 };
  const band = (width - pad.left - pad.right) / runs.length;
  const bar = Math.min(28, band / 3);
  const y = (value: number) => pad.top + (1 - value) * (height - pad.top - pad.bottom);
  const random = runs.at(-1)!.metrics.baseline_random_top1;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`Top-1 and top-3 of the last ${runs.length} run(s); the newest has top-1 ${format(runs.at(-1)!.metrics.top1, 'share')}`}
    >
      {[0, 0.25, 0.5, 0.75, 1].map((tick) => (
        <g>
          <line x1={pad.left} x2={width - pad.right} y1={y(tick)} y2={y(tick)} stroke="#d0d7de" />
          <text x={pad.left - 6} y={y(tick) + 4} font-size="11" text-anchor="end" fill="#57606a">
            {`${tick * 100} %`}
          </text>
        </g>
      ))}
      {runs.map((run, index) => {
        const x = pad.left + index * band + band / 2;
        return (
          <g>
            <rect x={x - bar} y={y(run.metrics.top1)} width={bar} height={y(0) - y(run.metrics.top1)} fill="#0b5cad">
              <title>{`${run.id} top-1 ${format(run.metrics.top1, 'share')}`}</title>
            </rect>
            <rect x={x} y={y(run.metrics.top3)} width={bar} height={y(0) - y(run.metrics.top3)} fill="#8cb8e6">
              <title>{`${run.id} top-3 ${format(run.metrics.top3, 'share')}`}</title>
            </rect>
            <text x={x} y={height - 20} font-size="10" text-anchor="middle" fill="#57606a">
              {run.createdAt.slice(5, 10)}
            </text>
          </g>
        );
      })}
      <line
        x1={pad.left}
        x2={width - pad.right}
        y1={y(random)}
        y2={y(random)}
        stroke="#b42318"
        stroke-dasharray="6 4"
      />
      <text x={width - pad.right} y={y(random) - 4} font-size="11" text-anchor="end" fill="#b42318">
        {`random top-1 ${format(random, 'share')}`}
      </text>
      <rect x={pad.left} y={height - 12} width="10" height="10" fill="#0b5cad" />
      <text x={pad.left + 14} y={height - 3} font-size="11" fill="#1b1f24">
        top-1
      </text>
      <rect x={pad.left + 60} y={height - 12} width="10" height="10" fill="#8cb8e6" />
      <text x={pad.left + 74} y={height - 3} font-size="11" fill="#1b1f24">
        top-3
      </text>
    </svg>
  );
}

function CompareForm(props: { runs: StoredRun[]; a?: string | undefined; b?: string | undefined }) {
  if (props.runs.length < 2) return <p class="muted">Two stored runs are needed for a comparison.</p>;
  const a = props.a ?? props.runs[1]!.id;
  const b = props.b ?? props.runs[0]!.id;
  const options = (selected: string) =>
    props.runs.map((run) => (
      <option value={run.id} selected={run.id === selected}>
        {`${run.id} · ${run.model} · ${when(run.createdAt)}`}
      </option>
    ));
  return (
    <form method="get" action="/evals/compare" class="compare-form">
      <div>
        <label for="compare-a">Run A (baseline)</label>
        <select id="compare-a" name="a">
          {options(a)}
        </select>
      </div>
      <div>
        <label for="compare-b">Run B (candidate)</label>
        <select id="compare-b" name="b">
          {options(b)}
        </select>
      </div>
      <div style="flex:0">
        <button type="submit">Compare</button>
      </div>
    </form>
  );
}

export function EvalsPage(props: { user: User; runs: StoredRun[] }) {
  return (
    <Layout title="Evals" user={props.user}>
      <style>{css}</style>
      <h1>Eval runs</h1>
      <p class="muted">
        Every <code>npx andon eval</code> run is stored with its config hash, model, prompt versions and git commit.
        Open a run for its per-tag slices, or compare two.
      </p>
      {props.runs.length === 0 ? (
        <p>
          No eval runs yet. Run <code>npx andon eval --cases cases.jsonl --kb kb.jsonl --output report.json</code>; it
          stores the run here.
        </p>
      ) : (
        <>
          <RunsChart runs={props.runs} />
          <h2>Compare two runs</h2>
          <CompareForm runs={props.runs} />
          <h2>Runs</h2>
          <div class="table-wrap">
            <table class="runs">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Model / prompts</th>
                  <th scope="col">Config / commit</th>
                  <th scope="col" class="num">
                    Cases
                  </th>
                  {shown.slice(0, 3).map((metric) => (
                    <th scope="col" class="num">
                      {metric.label}
                    </th>
                  ))}
                  <th scope="col" class="num hide-narrow">
                    citations
                  </th>
                  <th scope="col" class="num hide-narrow">
                    unapproved
                  </th>
                  <th scope="col">Gate</th>
                </tr>
              </thead>
              <tbody>
                {props.runs.map((run) => (
                  <tr class="run">
                    <td>
                      <a href={`/evals/${encodeURIComponent(run.id)}`}>{run.id}</a>
                      <div class="muted">{when(run.createdAt)} UTC</div>
                    </td>
                    <td>
                      {run.model}
                      <div class="muted">
                        {Object.entries(run.promptVersions)
                          .map(([name, version]) => `${name} ${version}`)
                          .join(', ')}
                      </div>
                    </td>
                    <td>
                      <code class="hash" title={run.configHash}>
                        {short(run.configHash)}
                      </code>
                      <div>
                        <code class="hash" title={run.gitCommit ?? 'not in a git checkout'}>
                          {short(run.gitCommit, 8)}
                        </code>
                      </div>
                    </td>
                    <td class="num">{run.cases}</td>
                    {shown.slice(0, 3).map((metric) => (
                      <td class="num">{format(run.metrics[metric.key] as number, metric.kind)}</td>
                    ))}
                    <td class="num hide-narrow">{format(run.metrics.citation_validity, 'share')}</td>
                    <td class="num hide-narrow">{run.metrics.unapproved_actions}</td>
                    <td>
                      {run.gatePassed === null ? (
                        <span class="muted">none</span>
                      ) : (
                        <Badge value={run.gatePassed ? 'passed' : 'failed'} />
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}

function MetricsTable(props: { metrics: Metrics }) {
  const m = props.metrics;
  return (
    <div class="table-wrap">
      <table class="metrics">
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" class="num">
              This run
            </th>
            <th scope="col" class="num">
              Random baseline
            </th>
            <th scope="col" class="num">
              Retrieval-vote baseline
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map((metric) => {
            const baseline = (name: string) =>
              (m as Record<string, unknown>)[`baseline_${name}_${metric.key}`] as number | undefined;
            return (
              <tr>
                <th scope="row">{metric.label}</th>
                <td class="num">{format(m[metric.key] as number, metric.kind)}</td>
                <td class="num">{format(baseline('random'), metric.kind)}</td>
                <td class="num">{format(baseline('retrieval_vote'), metric.kind)}</td>
              </tr>
            );
          })}
          <tr>
            <th scope="row">latency p50</th>
            <td class="num">{format(m.latency_p50_ms, 'ms')}</td>
            <td />
            <td />
          </tr>
          <tr>
            <th scope="row">tokens / cost</th>
            <td class="num">{`${m.tokens_total} / $${m.cost_usd.toFixed(4)}`}</td>
            <td />
            <td />
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export function EvalRunPage(props: { user: User; run: StoredRun; report: Report }) {
  const { run, report } = props;
  const misses = report.cases.filter((result) => result.rank !== 1);
  const slices = Object.entries(report.slices).sort((a, b) => b[1].cases - a[1].cases);
  return (
    <Layout title={`Eval ${run.id}`} user={props.user}>
      <style>{css}</style>
      <p>
        <a href="/evals">← Eval runs</a>
      </p>
      <h1>Eval run {run.id}</h1>
      <div class="table-wrap">
        <table>
          <tbody>
            <tr>
              <th scope="row">Created</th>
              <td>{when(run.createdAt)} UTC</td>
            </tr>
            <tr>
              <th scope="row">Model</th>
              <td>
                {run.model} (drafter {report.config.drafter.mode}, {run.drafterModel}; embedder {report.config.embedder}
                )
              </td>
            </tr>
            <tr>
              <th scope="row">Prompt versions</th>
              <td>
                {Object.entries(run.promptVersions)
                  .map(([name, version]) => `${name} ${version}`)
                  .join(', ') || '–'}
              </td>
            </tr>
            <tr>
              <th scope="row">Config hash</th>
              <td>
                <code>{run.configHash}</code>
              </td>
            </tr>
            <tr>
              <th scope="row">Git commit</th>
              <td>
                <code>{run.gitCommit ?? 'not in a git checkout'}</code>
              </td>
            </tr>
            <tr>
              <th scope="row">Data set</th>
              <td>
                {report.dataset.cases} ({run.cases} cases), knowledge {report.dataset.kb} ({report.dataset.documents}{' '}
                documents), hash <code class="hash">{short(report.dataset.hash, 12)}</code>
              </td>
            </tr>
            <tr>
              <th scope="row">Gate</th>
              <td>
                {run.gatePassed === null ? 'none asked for' : run.gatePassed ? 'passed' : 'failed'}
                {run.gateFailures.length > 0 ? (
                  <ul>
                    {run.gateFailures.map((failure) => (
                      <li>{failure}</li>
                    ))}
                  </ul>
                ) : null}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <h2>Metrics</h2>
      <MetricsTable metrics={run.metrics} />
      <h2>Per-tag slices</h2>
      {slices.length === 0 ? <p>The cases carry no tags.</p> : null}
      <div class="table-wrap">
        <table class="slices">
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col" class="num">
                Cases
              </th>
              {shown.slice(0, 8).map((metric) => (
                <th scope="col" class="num">
                  {metric.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {slices.map(([tag, metrics]) => (
              <tr class="slice">
                <th scope="row">{tag}</th>
                <td class="num">{metrics.cases}</td>
                {shown.slice(0, 8).map((metric) => (
                  <td class="num">{format(metrics[metric.key] as number, metric.kind)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Cases not ranked first ({misses.length})</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Expected</th>
              <th scope="col">Ranked (top 3)</th>
              <th scope="col">Flags</th>
            </tr>
          </thead>
          <tbody>
            {misses.slice(0, 200).map((result) => (
              <tr>
                <td>
                  {result.id}
                  <div class="muted">{result.tags.join(', ')}</div>
                </td>
                <td>{result.expected}</td>
                <td>{result.error ? `error: ${result.error}` : result.ranked.slice(0, 3).join(' › ') || '–'}</td>
                <td>{result.flags.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

/** A forest plot of the metric deltas with their 95 % intervals. */
function DeltaChart(props: { comparison: Comparison }) {
  const deltas = props.comparison.deltas.filter((delta) => delta.metric !== 'latency_ms');
  const width = 900;
  const row = 30;
  const left = 170;
  const right = 20;
  const height = deltas.length * row + 40;
  const span = Math.max(0.05, ...deltas.flatMap((delta) => [Math.abs(delta.low), Math.abs(delta.high)]));
  const x = (value: number) => left + ((value + span) / (2 * span)) * (width - left - right);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label="Change of each metric from run A to run B with its 95 % confidence interval"
    >
      <line x1={x(0)} x2={x(0)} y1={10} y2={height - 24} stroke="#57606a" />
      <text x={x(0)} y={height - 8} font-size="11" text-anchor="middle" fill="#57606a">
        no change
      </text>
      <text x={x(-span)} y={height - 8} font-size="11" fill="#57606a">
        {`${(-span * 100).toFixed(1)} pts (worse)`}
      </text>
      <text x={x(span)} y={height - 8} font-size="11" text-anchor="end" fill="#57606a">
        {`+${(span * 100).toFixed(1)} pts (better)`}
      </text>
      {deltas.map((delta, index) => {
        const y = 24 + index * row;
        const color = !delta.significant ? '#57606a' : delta.delta > 0 ? '#1a7f37' : '#b42318';
        return (
          <g>
            <text x={left - 10} y={y + 4} font-size="12" text-anchor="end" fill="#1b1f24">
              {delta.metric}
            </text>
            <line x1={x(delta.low)} x2={x(delta.high)} y1={y} y2={y} stroke={color} stroke-width="3" />
            <circle cx={x(delta.delta)} cy={y} r="5" fill={color}>
              <title>{`${delta.metric}: ${delta.delta >= 0 ? '+' : ''}${(delta.delta * 100).toFixed(1)} pts [${(delta.low * 100).toFixed(1)}, ${(delta.high * 100).toFixed(1)}]`}</title>
            </circle>
          </g>
        );
      })}
    </svg>
  );
}

export function EvalComparePage(props: { user: User; runs: StoredRun[]; comparison: Comparison }) {
  const c = props.comparison;
  const fixed = c.flips.filter((flip) => flip.direction === 'fixed');
  const broken = c.flips.filter((flip) => flip.direction === 'broken');
  return (
    <Layout title="Compare eval runs" user={props.user}>
      <style>{css}</style>
      <p>
        <a href="/evals">← Eval runs</a>
      </p>
      <h1>Compare eval runs</h1>
      <CompareForm runs={props.runs} a={c.a.runId} b={c.b.runId} />
      <p>
        A = <a href={`/evals/${encodeURIComponent(c.a.runId)}`}>{c.a.runId}</a> ({c.a.model}, config{' '}
        <code class="hash">{short(c.a.configHash)}</code>) → B ={' '}
        <a href={`/evals/${encodeURIComponent(c.b.runId)}`}>{c.b.runId}</a> ({c.b.model}, config{' '}
        <code class="hash">{short(c.b.configHash)}</code>). {c.paired} paired case(s)
        {c.onlyInA + c.onlyInB > 0 ? `; ${c.onlyInA} only in A, ${c.onlyInB} only in B` : ''}.
      </p>
      {c.paired === 0 ? (
        <p class="error" role="alert">
          The two runs share no case ids, so nothing can be compared. Compare runs over the same cases.
        </p>
      ) : null}
      <DeltaChart comparison={c} />
      <div class="table-wrap">
        <table class="deltas">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" class="num">
                A
              </th>
              <th scope="col" class="num">
                B
              </th>
              <th scope="col" class="num">
                Change
              </th>
              <th scope="col" class="num">
                95 % interval
              </th>
              <th scope="col">Verdict</th>
            </tr>
          </thead>
          <tbody>
            {c.deltas.map((delta) => {
              const latency = delta.metric === 'latency_ms';
              const value = (v: number) => (latency ? `${Math.round(v)} ms` : `${(v * 100).toFixed(1)} %`);
              const change = (v: number) =>
                latency ? `${v >= 0 ? '+' : ''}${Math.round(v)} ms` : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} pts`;
              const better = latency ? delta.delta < 0 : delta.delta > 0;
              return (
                <tr class="delta">
                  <th scope="row">{delta.metric}</th>
                  <td class="num">{value(delta.a)}</td>
                  <td class="num">{value(delta.b)}</td>
                  <td class="num">{change(delta.delta)}</td>
                  <td class="num">{`[${change(delta.low)}, ${change(delta.high)}]`}</td>
                  <td>
                    {delta.significant ? (
                      <span class={better ? 'better' : 'worse'}>{better ? 'better' : 'worse'}</span>
                    ) : (
                      <span class="muted">no clear change</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <h2>
        Flipped cases: {fixed.length} fixed, {broken.length} broken
      </h2>
      {c.flips.length === 0 ? <p>No case changed between right and wrong at top-1.</p> : null}
      <div class="table-wrap">
        <table class="flips">
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Change</th>
              <th scope="col">Expected</th>
              <th scope="col">A ranked first</th>
              <th scope="col">B ranked first</th>
            </tr>
          </thead>
          <tbody>
            {[...broken, ...fixed].map((flip) => (
              <tr class={`flip ${flip.direction}`}>
                <td>
                  {flip.id}
                  <div class="muted">{flip.tags.join(', ')}</div>
                </td>
                <td>
                  <span class={flip.direction === 'fixed' ? 'better' : 'worse'}>{flip.direction}</span>
                </td>
                <td>{flip.expected}</td>
                <td>{flip.a ?? '–'}</td>
                <td>{flip.b ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

/**
 * The Evals pages as a sub-app (mount at the server's root): GET /evals, /evals/compare?a=&b=, /evals/:id.
 */
export function createEvalPages(deps: EvalsApiDeps) {
  const app = createAuthenticatedApp(deps.users, ['/evals']);

  app.get('/evals', async (c) => {
    const user = requireUser(c);
    requireRole(user, evalReaderRoles, 'see eval runs');
    return c.html(<EvalsPage user={user} runs={await deps.runs.list(100)} />);
  });

  app.get('/evals/compare', async (c) => {
    const user = requireUser(c);
    requireRole(user, evalReaderRoles, 'compare eval runs');
    const comparison = await compareRuns(deps.runs, parseInput(CompareQuery, c.req.query()));
    return c.html(<EvalComparePage user={user} runs={await deps.runs.list(100)} comparison={comparison} />);
  });

  app.get('/evals/:id', async (c) => {
    const user = requireUser(c);
    requireRole(user, evalReaderRoles, 'see eval runs');
    const { run, report } = await loadRun(deps.runs, c.req.param('id'));
    return c.html(<EvalRunPage user={user} run={run} report={report} />);
  });

  return app;
}
