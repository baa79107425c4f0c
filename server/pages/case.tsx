import type {
  ActionExecution,
  Approval,
  AuditEntry,
  CapaItem,
  Case,
  Citation,
  Deviation,
  Reading,
} from '../../core/index.ts';
import type { TriageStatus } from '../../graph/index.ts';
import type { StoredDraft, User } from '../../store/index.ts';
import { ControlChart } from './chart.tsx';
import { Badge, Layout } from './layout.tsx';

export interface CaseView {
  case: Case;
  deviations: Deviation[];
  signals: Record<string, Reading[]>;
  draft: StoredDraft | null;
  approvals: Approval[];
  executions: ActionExecution[];
  audit: AuditEntry[];
  triage: TriageStatus | null;
}

function CitationQuote(props: { citation: Citation }) {
  const c = props.citation;
  return (
    <blockquote>
      “{c.quote}”
      <div class="muted">
        — {c.title}
        {c.revision ? ` rev ${c.revision}` : ''}
        {c.section ? `, ${c.section}` : ''}
        {typeof c.start === 'number' ? ` (chars ${c.start}–${c.end})` : ''}
      </div>
    </blockquote>
  );
}

function CapaSection(props: { title: string; items: CapaItem[] }) {
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
        </div>
      ))}
    </div>
  );
}

export function CasePage(props: {
  user: User;
  view: CaseView;
  csrfToken: string | null;
  error?: string | undefined;
  notice?: string | undefined;
}) {
  const { view } = props;
  const item = view.case;
  const draft = view.draft?.draft;
  const pending = item.status === 'awaiting_approval' && view.triage?.waitingForDecision;
  const tags = Object.keys(view.signals);
  return (
    <Layout
      title={item.id}
      user={props.user}
      refreshSeconds={pending ? undefined : item.status === 'closed' ? undefined : 5}
    >
      <p>
        <a href="/">← All cases</a>
      </p>
      <h1>
        {item.id} <Badge value={item.status} /> <Badge value={item.severity} />
      </h1>
      <p>{item.title}</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <p class="muted">
        Opened {item.createdAt.replace('T', ' ').slice(0, 19)} UTC
        {item.context.line ? ` · line ${item.context.line}` : ''}
        {item.context.product ? ` · product ${item.context.product}` : ''}
        {item.context.lot ? ` · lot ${item.context.lot}` : ''}
        {item.context.order ? ` · order ${item.context.order}` : ''}
      </p>

      <h2>Signals</h2>
      {tags.map((tag) => (
        <ControlChart
          tag={tag}
          readings={view.signals[tag] ?? []}
          deviations={view.deviations.filter((deviation) => deviation.tag === tag)}
        />
      ))}
      <table>
        <thead>
          <tr>
            <th scope="col">Detected</th>
            <th scope="col">Tag</th>
            <th scope="col">Detector / rule</th>
            <th scope="col">Finding</th>
          </tr>
        </thead>
        <tbody>
          {view.deviations.map((deviation) => (
            <tr>
              <td>{deviation.detectedAt.replace('T', ' ').slice(0, 19)}</td>
              <td>{deviation.tag}</td>
              <td>
                {deviation.detector} / {deviation.rule}
              </td>
              <td>{deviation.message}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>
        Draft {draft ? `v${draft.version}` : ''}{' '}
        {draft?.source === 'offline' ? <span class="offline">Offline draft</span> : null}
      </h2>
      {!draft ? (
        <p class="muted">Triage is gathering evidence and drafting; this page refreshes itself.</p>
      ) : (
        <>
          <p>{draft.summary}</p>
          <p class="muted">
            Written by {draft.author} ({draft.model}) · record hash <code>{view.draft!.recordHash.slice(0, 12)}</code>
          </p>
          {draft.flags.length > 0 ? (
            <ul>
              {draft.flags.map((flag) => (
                <li>{flag}</li>
              ))}
            </ul>
          ) : null}
          <h2>Root-cause hypotheses</h2>
          <ol>
            {draft.hypotheses.map((hypothesis) => (
              <li class="card">
                <strong>{hypothesis.statement}</strong>{' '}
                <span class="muted">({Math.round(hypothesis.confidence * 100)} %)</span>
                <ul>
                  {hypothesis.evidenceFor.map((line) => (
                    <li>{line}</li>
                  ))}
                </ul>
                {hypothesis.citations.map((citation) => (
                  <CitationQuote citation={citation} />
                ))}
              </li>
            ))}
          </ol>
          <h2>CAPA plan (8D)</h2>
          <p>
            <strong>Team:</strong> {draft.capa.team.join(', ')}
          </p>
          <p>
            <strong>Problem:</strong> {draft.capa.problem}
          </p>
          <CapaSection title="Containment" items={draft.capa.containment} />
          <CapaSection title="Root cause" items={draft.capa.rootCause} />
          <CapaSection title="Corrective actions" items={draft.capa.corrective} />
          <CapaSection title="Preventive actions" items={draft.capa.preventive} />
          <CapaSection title="Verification of effectiveness" items={draft.capa.effectiveness} />
          <h2>Proposed actions</h2>
          {draft.actions.map((action) => (
            <div class="card">
              <strong>{action.type.replaceAll('_', ' ')}</strong> <Badge value={action.risk} />
              <p>{action.reason}</p>
              <pre>{action.preview}</pre>
              <p class="muted">Idempotency key {action.idempotencyKey}</p>
            </div>
          ))}
        </>
      )}

      {pending && draft ? (
        <section aria-labelledby="sign">
          <h2 id="sign">Decision (electronic signature)</h2>
          <p>
            You are signing draft v{draft.version} (record hash <code>{view.draft!.recordHash.slice(0, 12)}</code>) as{' '}
            <strong>{props.user.displayName}</strong>. Approving releases the actions above to be executed once.
          </p>
          <form method="post" action={`/cases/${encodeURIComponent(item.id)}/decision`}>
            <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
            <input type="hidden" name="recordHash" value={view.draft!.recordHash} />
            <label for="comment">Comment (why)</label>
            <textarea id="comment" name="comment" rows={2} />
            <label for="password">Your password (re-authentication for the signature)</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <div>
              <button class="approve" type="submit" name="decision" value="approve">
                Approve and sign
              </button>
              <button class="reject" type="submit" name="decision" value="reject">
                Reject and sign
              </button>
            </div>
          </form>
        </section>
      ) : null}

      <h2>Signatures</h2>
      {view.approvals.length === 0 ? <p class="muted">None yet.</p> : null}
      {view.approvals.map((approval) => (
        <p class="card">
          <strong>{approval.signature.meaning}</strong> by {approval.signature.printedName} at{' '}
          {approval.signature.signedAt.replace('T', ' ').slice(0, 19)} UTC on draft v{approval.draftVersion} (hash{' '}
          <code>{approval.signature.recordHash.slice(0, 12)}</code>){approval.comment ? ` — “${approval.comment}”` : ''}
        </p>
      ))}

      <h2>Action executions</h2>
      {view.executions.length === 0 ? <p class="muted">Nothing has been released for execution.</p> : null}
      {view.executions.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">External id</th>
            </tr>
          </thead>
          <tbody>
            {view.executions.map((execution) => (
              <tr class="execution">
                <td>{execution.type.replaceAll('_', ' ')}</td>
                <td>
                  <Badge value={execution.status} />
                </td>
                <td>{execution.attempts}</td>
                <td>{execution.externalId ?? execution.lastError ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <h2>Audit trail</h2>
      <table class="audit">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col" class="hide-narrow">
              Hash
            </th>
          </tr>
        </thead>
        <tbody>
          {view.audit.map((entry) => (
            <tr>
              <td>{entry.seq}</td>
              <td>{entry.at.replace('T', ' ').slice(0, 19)}</td>
              <td>
                {entry.actor.kind}:{entry.actor.id}
              </td>
              <td>{entry.action}</td>
              <td class="hide-narrow">
                <code>{entry.hash.slice(0, 10)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}
