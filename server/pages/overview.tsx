import type { User } from '../../store/index.ts';
import { assetUrl } from '../ui/assets.ts';
import { formatAge, type KpiTile, type Overview, SEVERITIES } from '../ui/overview-model.ts';
import { Badge, Layout } from './layout.tsx';

const tileState = (tile: KpiTile) =>
  tile.noData ? 'nodata' : tile.ok === true ? 'ok' : tile.ok === false ? 'miss' : 'review';
const tileWord = (tile: KpiTile) =>
  tile.noData ? 'no data' : tile.ok === true ? 'meets target' : tile.ok === false ? 'misses target' : 'for review';

/** "2 (packaging, 2026-11-25T21:00Z)" → the figure large, what qualifies it small underneath. */
const figure = (value: string) => {
  const at = value.indexOf(' (');
  return at > 0 && value.endsWith(')')
    ? { main: value.slice(0, at), detail: value.slice(at + 2, -1) }
    : { main: value, detail: '' };
};

/** Active alarms per area, split by severity: a stacked bar and the numbers. */
export function AlarmsByArea(props: { overview: Overview }) {
  const { alarms } = props.overview;
  const widest = Math.max(1, ...alarms.byArea.map((row) => row.total));
  if (alarms.byArea.length === 0) return <p class="muted">No active alarms. The floor is quiet.</p>;
  return (
    <>
      <p>
        <strong>{alarms.active}</strong> active alarm(s) in {alarms.byArea.length} area(s).
      </p>
      <div class="legend" aria-hidden="true">
        {SEVERITIES.map((level) => (
          <span>
            <i class={`sev-${level}`} />
            {level}
          </span>
        ))}
      </div>
      {alarms.byArea.map((row) => (
        <div class="bar-row">
          <span class="label">{row.area}</span>
          <span class="bar" aria-hidden="true">
            {SEVERITIES.map((level) =>
              row.counts[level] > 0 ? (
                <span class={`sev-${level}`} style={`width:${(100 * row.counts[level]) / widest}%`} />
              ) : null,
            )}
          </span>
          <span class="n">{row.total}</span>
        </div>
      ))}
      <table>
        <caption class="sr-only">Active alarms by area and severity</caption>
        <thead>
          <tr>
            <th scope="col">Area</th>
            {SEVERITIES.map((level) => (
              <th scope="col" class="num">
                {level}
              </th>
            ))}
            <th scope="col" class="num">
              total
            </th>
          </tr>
        </thead>
        <tbody>
          {alarms.byArea.map((row) => (
            <tr>
              <th scope="row">{row.area}</th>
              {SEVERITIES.map((level) => (
                <td class="num">{row.counts[level]}</td>
              ))}
              <td class="num">{row.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Latest active alarms</h3>
      <ul>
        {alarms.latest.map((alarm) => (
          <li>
            <Badge value={alarm.severity} /> {alarm.tag} · {alarm.detector} {alarm.rule} ·{' '}
            {alarm.state.replaceAll('_', ' ')}{' '}
            <span class="muted">since {alarm.firstSeen.replace('T', ' ').slice(0, 19)} UTC</span>
            {alarm.caseId ? (
              <>
                {' '}
                · <a href={`/cases/${encodeURIComponent(alarm.caseId)}`}>open its case</a>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}

/** Open cases by status and by age, and the oldest ones to chase. */
export function OpenCases(props: { overview: Overview }) {
  const { cases } = props.overview;
  const widest = Math.max(1, ...cases.byStatus.map((row) => row.count), ...cases.byAge.map((row) => row.count));
  return (
    <>
      <p>
        <strong>{cases.open}</strong> open case(s).
      </p>
      <div class="grid2">
        <div>
          <h3>By status</h3>
          {cases.byStatus.map((row) => (
            <div class="bar-row">
              <span class="label">{row.status.replaceAll('_', ' ')}</span>
              <span class="bar" aria-hidden="true">
                <span class="fill" style={`width:${(100 * row.count) / widest}%`} />
              </span>
              <span class="n">{row.count}</span>
            </div>
          ))}
        </div>
        <div>
          <h3>By age</h3>
          {cases.byAge.map((row) => (
            <div class="bar-row">
              <span class="label">{row.label}</span>
              <span class="bar" aria-hidden="true">
                <span class="fill" style={`width:${(100 * row.count) / widest}%`} />
              </span>
              <span class="n">{row.count}</span>
            </div>
          ))}
        </div>
      </div>
      {cases.oldest.length === 0 ? (
        <p class="muted">
          No open cases. The simulator's drift opens one within about a minute of start; this page updates itself.
        </p>
      ) : (
        <table>
          <caption class="sr-only">Open cases, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col" class="hide-narrow">
                Severity
              </th>
              <th scope="col" class="num">
                Age
              </th>
            </tr>
          </thead>
          <tbody>
            {cases.oldest.map((item) => (
              <tr>
                <td>
                  <a class="case-id" href={`/cases/${encodeURIComponent(item.id)}`}>
                    {item.id}
                  </a>
                </td>
                <td>{item.title}</td>
                <td>
                  <Badge value={item.status} />
                </td>
                <td class="hide-narrow">
                  <Badge value={item.severity} />
                </td>
                <td class="num">{formatAge(item.ageHours)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** The ISA-18.2 KPIs of up to the last 24 hours of plant time, each against its target, with the verdict in words. */
export function KpiTiles(props: { overview: Overview }) {
  const { kpis } = props.overview;
  return (
    <>
      <p class="muted">
        {kpis.alarms} alarm activation(s) from {kpis.from.replace('T', ' ').slice(0, 16)} to{' '}
        {kpis.to.replace('T', ' ').slice(0, 16)} UTC
        {kpis.plantAhead
          ? ' on the plant clock, which runs ahead of this server’s (an accelerated simulator or a replay).'
          : '.'}
      </p>
      <div class="tiles">
        {kpis.tiles.map((tile) => (
          <div class={`tile ${tileState(tile)}`}>
            <p class="metric">{tile.metric}</p>
            <p class="value">
              {figure(tile.value).main}
              {figure(tile.value).detail ? <span class="detail">{figure(tile.value).detail}</span> : null}
            </p>
            <p class="target">Target: {tile.target}</p>
            <span class={`status-word ${tileState(tile)}`}>{tileWord(tile)}</span>
          </div>
        ))}
      </div>
    </>
  );
}

/** The parts of the overview the live feed replaces, keyed by the id of their container. */
export const LIVE_SECTIONS = {
  'live-alarms': AlarmsByArea,
  'live-cases': OpenCases,
  'live-kpis': KpiTiles,
} as const;

/** Render the live parts as HTML (escaped by hono/jsx) for the server-sent events. */
export async function renderLiveSections(overview: Overview): Promise<string> {
  const sections: Record<string, string> = {};
  for (const [id, Section] of Object.entries(LIVE_SECTIONS)) sections[id] = await Section({ overview }).toString();
  return JSON.stringify({ at: overview.at, sections });
}

export function OverviewPage(props: { user: User; overview: Overview }) {
  const { overview } = props;
  return (
    <Layout title="Overview" user={props.user} scripts={[assetUrl('overview.js')]}>
      <h1>Overview</h1>
      <p class="live" id="live-status" data-state="static" data-source="/ui/events/overview" aria-live="polite">
        As of {overview.at.replace('T', ' ').slice(0, 19)} UTC.
      </p>
      <section aria-labelledby="alarms-heading">
        <h2 id="alarms-heading">Active alarms by area and severity</h2>
        <div id="live-alarms">
          <AlarmsByArea overview={overview} />
        </div>
      </section>
      <section aria-labelledby="cases-heading">
        <h2 id="cases-heading">Open cases</h2>
        <div id="live-cases">
          <OpenCases overview={overview} />
        </div>
      </section>
      <section aria-labelledby="kpi-heading">
        <h2 id="kpi-heading">Alarm performance (ISA-18.2, up to the last 24 h of plant time)</h2>
        <div id="live-kpis">
          <KpiTiles overview={overview} />
        </div>
      </section>
    </Layout>
  );
}
