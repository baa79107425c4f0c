import type { AuditEntry, CapaItem, Citation, Deviation, Draft, Evidence, RetrievedPassage } from '../../core/index.ts';
import type { StoredDraft } from '../../store/index.ts';
import { Badge } from '../pages/layout.tsx';
import { compactDiff, draftLines, lineDiff } from './diff.ts';

const time = (iso: string) => iso.replace('T', ' ').slice(0, 19);

/** Link to the citation view: the exact section of the source with the quote highlighted. */
export function citationHref(citation: Citation, caseId?: string): string {
  const query = new URLSearchParams({ doc: citation.documentId });
  if (caseId) query.set('case', caseId);
  if (typeof citation.start === 'number' && typeof citation.end === 'number') {
    query.set('start', String(citation.start));
    query.set('end', String(citation.end));
  }
  return `/cite/${encodeURIComponent(citation.chunkId)}?${query.toString()}#quote`;
}

const sourceName = (citation: Citation) =>
  `${citation.title}${citation.revision ? ` rev ${citation.revision}` : ''}${citation.section ? `, ${citation.section}` : ''}`;

export function CitationQuote(props: { citation: Citation; caseId?: string | undefined }) {
  const c = props.citation;
  return (
    <blockquote>
      “{c.quote}”
      <div class="muted">
        — <a href={citationHref(c, props.caseId)}>{sourceName(c)}</a>{' '}
        <span class="cite-link">(opens the source with the quote highlighted)</span>
      </div>
    </blockquote>
  );
}

/** The multivariate monitor's contribution of each signal to a finding, as bars with the share in words. */
export function Contributions(props: { deviations: Deviation[] }) {
  const findings = props.deviations.filter((deviation) => deviation.contributions.length > 0);
  if (findings.length === 0)
    return (
      <p class="muted">
        No multivariate finding on this case: the deviation is on a single signal, so there are no contributions to
        split.
      </p>
    );
  return (
    <>
      {findings.map((finding) => {
        const sorted = [...finding.contributions].sort((a, b) => b.share - a.share);
        const top = Math.max(...sorted.map((item) => item.share), 1e-9);
        return (
          <div class="card contrib">
            <p>
              <strong>
                {finding.detector} {finding.rule}
              </strong>{' '}
              at {time(finding.detectedAt)} UTC: {finding.message}
            </p>
            {sorted.map((item) => (
              <div class="bar-row">
                <span class="label">
                  <TagName tag={item.tag} />
                </span>
                <span class="bar" aria-hidden="true">
                  <span class="fill" style={`width:${(100 * item.share) / top}%`} />
                </span>
                <span class="n">{`${(100 * item.share).toFixed(0)} %`}</span>
              </div>
            ))}
          </div>
        );
      })}
    </>
  );
}

function Passage(props: { passage: RetrievedPassage; caseId: string }) {
  const { passage } = props;
  return (
    <li>
      <a href={citationHref(passage.citation, props.caseId)}>{sourceName(passage.citation)}</a>{' '}
      <span class="muted">
        ({passage.kind}, score {passage.score.toFixed(2)})
      </span>
      <div class="muted">{passage.text.length > 280 ? `${passage.text.slice(0, 280)}…` : passage.text}</div>
    </li>
  );
}

/** What triage looked at: signal statistics, SOP passages and past incidents. */
export function EvidenceSection(props: { evidence: Evidence | null; caseId: string }) {
  const { evidence } = props;
  if (!evidence) return <p class="muted">Triage has not gathered evidence for this case yet.</p>;
  return (
    <>
      {evidence.signals.length > 0 ? (
        <table>
          <caption class="sr-only">Signal statistics over the evidence window</caption>
          <thead>
            <tr>
              <th scope="col">Signal</th>
              <th scope="col" class="num">
                Samples
              </th>
              <th scope="col" class="num">
                Mean
              </th>
              <th scope="col" class="num hide-narrow">
                σ
              </th>
              <th scope="col" class="num">
                Slope / min
              </th>
            </tr>
          </thead>
          <tbody>
            {evidence.signals.map((signal) => (
              <tr>
                <td>
                  <TagName tag={signal.tag} />
                </td>
                <td class="num">{signal.samples}</td>
                <td class="num">{signal.mean?.toPrecision(5) ?? '—'}</td>
                <td class="num hide-narrow">{signal.stdev?.toPrecision(3) ?? '—'}</td>
                <td class="num">{signal.slopePerMinute?.toPrecision(3) ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <h3>SOP passages retrieved ({evidence.sops.length})</h3>
      {evidence.sops.length === 0 ? <p class="muted">None matched.</p> : null}
      <ul>
        {evidence.sops.map((passage) => (
          <Passage passage={passage} caseId={props.caseId} />
        ))}
      </ul>
      <h3>Similar past incidents ({evidence.incidents.length})</h3>
      {evidence.incidents.length === 0 ? <p class="muted">None matched.</p> : null}
      <ul>
        {evidence.incidents.map((passage) => (
          <Passage passage={passage} caseId={props.caseId} />
        ))}
      </ul>
    </>
  );
}

export function CapaSection(props: { title: string; items: CapaItem[]; caseId: string }) {
  return (
    <div>
      <h3>{props.title}</h3>
      {props.items.length === 0 ? <p class="muted">None.</p> : null}
      {props.items.map((item) => (
        <div class="card">
          <p>{item.text}</p>
          <p class="muted">
            Owner: {item.owner ?? 'unassigned'} · Due: {item.due ?? 'not set'}
          </p>
          {item.citations.map((citation) => (
            <CitationQuote citation={citation} caseId={props.caseId} />
          ))}
        </div>
      ))}
    </div>
  );
}

export const CAPA_SECTIONS = [
  ['containment', 'Containment'],
  ['rootCause', 'Root cause'],
  ['corrective', 'Corrective actions'],
  ['preventive', 'Preventive actions'],
  ['effectiveness', 'Verification of effectiveness'],
] as const;

/**
 * The CAPA editor: every item's text, owner and due date, plus one empty row per section to add an item. Saving makes a
 * new draft version, which someone other than the editor signs.
 */
export function CapaEditor(props: {
  caseId: string;
  draft: Draft;
  csrfToken: string | null;
  open: boolean;
  /** What the user typed, shown again when saving failed, so nothing they wrote is lost. */
  values?: Record<string, string> | undefined;
}) {
  const { draft } = props;
  const value = (name: string, fallback: string) => props.values?.[name] ?? fallback;
  return (
    <details id="edit-capa" open={props.open}>
      <summary>Edit the CAPA plan (saves a new version)</summary>
      <form method="post" action={`/cases/${encodeURIComponent(props.caseId)}/edit`} class="capa-form">
        <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
        <input type="hidden" name="fromVersion" value={String(draft.version)} />
        <label for="edit-summary">Summary</label>
        <textarea id="edit-summary" name="summary" rows={3} maxlength={4000} required style="max-width:none">
          {value('summary', draft.summary)}
        </textarea>
        <label for="edit-problem">Problem statement (D2)</label>
        <textarea id="edit-problem" name="capa.problem" rows={2} maxlength={4000} required style="max-width:none">
          {value('capa.problem', draft.capa.problem)}
        </textarea>
        <label for="edit-team">Team (D1), separated by commas</label>
        <input
          id="edit-team"
          name="capa.team"
          value={value('capa.team', draft.capa.team.join(', '))}
          style="max-width:none"
        />
        {CAPA_SECTIONS.map(([key, title]) => (
          <fieldset>
            <legend>{title}</legend>
            {[...draft.capa[key], null].map((item, index) => {
              const id = `edit-${key}-${index}`;
              return (
                <div class="capa-item">
                  <div class="text">
                    <label for={`${id}-text`}>{item ? `Item ${index + 1}` : 'New item (leave empty for none)'}</label>
                    <textarea id={`${id}-text`} name={`${key}.${index}.text`} rows={2} maxlength={4000}>
                      {value(`${key}.${index}.text`, item?.text ?? '')}
                    </textarea>
                  </div>
                  <div>
                    <label for={`${id}-owner`}>Owner</label>
                    <input
                      id={`${id}-owner`}
                      name={`${key}.${index}.owner`}
                      value={value(`${key}.${index}.owner`, item?.owner ?? '')}
                      maxlength={200}
                    />
                  </div>
                  <div>
                    <label for={`${id}-due`}>Due</label>
                    <input
                      id={`${id}-due`}
                      name={`${key}.${index}.due`}
                      type="date"
                      value={value(`${key}.${index}.due`, item?.due ?? '')}
                    />
                  </div>
                </div>
              );
            })}
          </fieldset>
        ))}
        <label for="edit-comment">Why you changed it</label>
        <textarea id="edit-comment" name="comment" rows={2} maxlength={4000} required>
          {value('comment', '')}
        </textarea>
        <p class="muted next-step">
          Clear an item's text to remove it. Saving creates version {draft.version + 1}; you cannot sign a version you
          edited, so someone else signs it.
        </p>
        <button type="submit">Save as version {draft.version + 1}</button>
      </form>
    </details>
  );
}

/** Every version of the draft, who wrote it and its hash, and what changed from the one before. */
export function VersionHistory(props: { versions: StoredDraft[]; people: Record<string, string> }) {
  const { versions } = props;
  if (versions.length === 0) return <p class="muted">No versions yet.</p>;
  return (
    <>
      <table class="versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Written by</th>
            <th scope="col" class="hide-narrow">
              When (UTC)
            </th>
            <th scope="col">Record hash</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((stored) => (
            <tr>
              <td>
                v{stored.draft.version}{' '}
                {stored.draft.source === 'offline' ? <span class="offline">Offline draft</span> : null}
              </td>
              <td>
                {props.people[stored.draft.author] ?? stored.draft.author}{' '}
                <span class="muted">({stored.draft.source})</span>
              </td>
              <td class="hide-narrow">{time(stored.createdAt)}</td>
              <td>
                <code>{stored.recordHash.slice(0, 12)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {versions.slice(1).map((stored, index) => {
        const before = versions[index]!;
        const lines = compactDiff(lineDiff(draftLines(before.draft), draftLines(stored.draft)));
        const changed = lines.filter((line) => line.kind === 'added' || line.kind === 'removed').length;
        return (
          <details class="version-diff" open={index === versions.length - 2}>
            <summary>
              What changed from v{before.draft.version} to v{stored.draft.version} ({changed} line
              {changed === 1 ? '' : 's'})
            </summary>
            {stored.draft.flags
              .filter((flag) => /^(Edited by|Redraft after)/.test(flag))
              .map((flag) => (
                <p class="notice">{flag}</p>
              ))}
            <section class="diff" aria-label={`Changes from v${before.draft.version} to v${stored.draft.version}`}>
              {lines.map((line) =>
                line.kind === 'gap' ? (
                  <div class="same">… {line.skipped} unchanged line(s)</div>
                ) : line.kind === 'added' ? (
                  <ins>
                    <span class="sr-only">added: </span>+ {line.text}
                  </ins>
                ) : line.kind === 'removed' ? (
                  <del>
                    <span class="sr-only">removed: </span>− {line.text}
                  </del>
                ) : (
                  <div class="same">{`  ${line.text}`}</div>
                ),
              )}
            </section>
          </details>
        );
      })}
    </>
  );
}

const describe = (entry: AuditEntry): string => {
  const d = entry.details;
  switch (entry.action) {
    case 'draft.created':
      return `Draft v${d.version} written (${d.source})`;
    case 'draft.edited':
      return `Draft edited: v${d.fromVersion} → v${d.toVersion}${d.comment ? ` — “${String(d.comment)}”` : ''}`;
    case 'case.status_changed':
      return `Status → ${String(d.status ?? '').replaceAll('_', ' ')}`;
    case 'approval.requested':
      return `Approval requested for v${d.draftVersion}`;
    case 'approval.escalated':
      return `Approval of v${d.draftVersion} expired; escalated to ${String(d.escalatedTo ?? 'a human')}`;
    case 'approval.signed':
    case 'rejection.signed': {
      const signature = d.signature as { printedName?: string; meaning?: string; recordHash?: string } | undefined;
      return `Signed “${signature?.meaning ?? ''}” by ${signature?.printedName ?? entry.actor.id} (hash ${String(signature?.recordHash ?? '').slice(0, 12)})${d.comment ? ` — “${String(d.comment)}”` : ''}`;
    }
    case 'decision.refused':
      return `Signature refused: ${String(d.reason ?? '')}`;
    default:
      return entry.action.replaceAll('.', ' ').replaceAll('_', ' ');
  }
};

/** The case's audit trail, oldest first, each step with its actor and hash. */
export function AuditTimeline(props: { entries: AuditEntry[]; people: Record<string, string> }) {
  return (
    <table class="audit">
      <caption class="sr-only">Audit trail of this case, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time (UTC)</th>
          <th scope="col">Actor</th>
          <th scope="col">What happened</th>
          <th scope="col" class="hide-narrow">
            Hash
          </th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((entry) => (
          <tr class={entry.action.endsWith('.signed') ? 'signature' : undefined}>
            <td>{entry.seq}</td>
            <td>
              <span class="nowrap">{entry.at.slice(0, 10)}</span> <span class="nowrap">{entry.at.slice(11, 19)}</span>
            </td>
            <td>
              {entry.actor.kind === 'user' && props.people[entry.actor.id] ? (
                props.people[entry.actor.id]
              ) : (
                <TagName tag={`${entry.actor.kind}:${entry.actor.id}`} />
              )}
            </td>
            <td>
              {describe(entry)} <span class="muted">({entry.action})</span>
            </td>
            <td class="hide-narrow">
              <code>{entry.hash.slice(0, 10)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ActionPreview(props: { draft: Draft }) {
  return (
    <>
      {props.draft.actions.length === 0 ? <p class="muted">The draft proposes no actions.</p> : null}
      {props.draft.actions.map((action) => (
        <div class="card action">
          <strong>{action.type.replaceAll('_', ' ')}</strong> <Badge value={action.risk} />
          <p>{action.reason}</p>
          <p class="muted">Dry run: exactly what would be sent on approval (nothing is sent before then).</p>
          <pre class="preview">{action.preview}</pre>
          <p class="muted">Idempotency key {action.idempotencyKey}</p>
        </div>
      ))}
    </>
  );
}

/** A dotted name (a tag, an actor id) that may wrap after . _ : - (never inside a word) on a narrow screen. */
export function TagName(props: { tag: string }) {
  const parts = props.tag.split(/(?<=[._:-])/);
  return (
    <>
      {parts.map((part, index) => (
        <>
          {index > 0 ? <wbr /> : null}
          {part}
        </>
      ))}
    </>
  );
}
