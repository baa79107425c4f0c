import type { Evidence } from '../../core/index.ts';
import { rootCauseRoles, type StoredDraft, type User } from '../../store/index.ts';
import { hasRole } from '../sub-app.ts';
import { assetUrl } from '../ui/assets.ts';
import {
  ActionPreview,
  AuditTimeline,
  CAPA_SECTIONS,
  CapaEditor,
  CapaSection,
  CitationQuote,
  Contributions,
  EvidenceSection,
  TagName,
  VersionHistory,
} from '../ui/case-parts.tsx';
import type { approvalRequest, CaseView, Permission } from '../ui/case-view.ts';
import { EffectivenessCheck } from '../ui/effectiveness-part.tsx';
import { formatAge } from '../ui/overview-model.ts';
import { DecisionPanel, type SignDecision } from '../ui/sign-dialog.tsx';
import { SignatureList } from '../ui/signatures-part.tsx';
import { SignalChart } from './chart.tsx';
import { Badge, Layout } from './layout.tsx';

export type { CaseView } from '../ui/case-view.ts';

/** What the case page shows beyond the case itself: versions, evidence and what this user may do. */
export interface CasePageExtras {
  versions: StoredDraft[];
  /** Display names of the users in the trail and the versions, by user id. */
  people: Record<string, string>;
  /** The user signs in by OIDC, so a signature re-authenticates by an SSO re-login instead of a password. */
  signsWithSso: boolean;
  evidence: Evidence | null;
  sign: Permission;
  edit: Permission;
  request: ReturnType<typeof approvalRequest> | null;
  now: Date;
}

const time = (iso: string) => iso.replace('T', ' ').slice(0, 19);

function NextStep(props: { view: CaseView; extras: CasePageExtras }) {
  const { view, extras } = props;
  const status = view.case.status;
  const request = extras.request;
  if (status === 'awaiting_approval' && request?.since) {
    const waited = (extras.now.getTime() - Date.parse(request.since)) / 3_600_000;
    return (
      <p class="card next-step" role="status">
        <strong>Waiting for a signed decision</strong> on draft v{view.draft?.draft.version} for {formatAge(waited)}
        {request.escalationLevel > 0
          ? ` · escalated ${request.escalationLevel} time(s), now to ${request.escalatedTo ?? 'a human'}`
          : ''}
        .{' '}
        {extras.sign.allowed
          ? 'You may sign it below.'
          : extras.edit.allowed
            ? 'You may edit it below; someone with an approver role signs.'
            : extras.sign.reason}
      </p>
    );
  }
  const words: Record<string, string> = {
    open: 'Opened; triage starts shortly. This page refreshes itself.',
    triaging: 'Triage is gathering evidence and drafting. This page refreshes itself.',
    approved: 'Approved; the actions are being handed to the outbox. This page refreshes itself.',
    executing: 'The approved actions are being sent. This page refreshes itself.',
    escalated: 'Escalated to a person: the reason is in the audit trail below. Take it over outside the workflow.',
    rejected: 'Rejected and closed without action.',
    closed: 'Closed. The action results and the full audit trail are below.',
  };
  return <p class="card next-step">{words[status] ?? status}</p>;
}

export function CasePage(props: {
  user: User;
  view: CaseView;
  extras: CasePageExtras;
  csrfToken: string | null;
  error?: string | undefined;
  notice?: string | undefined;
  editOpen?: boolean | undefined;
  editValues?: Record<string, string> | undefined;
  /** The signature dialog to show open, with the refused attempt's reason and comment (then not shown on top). */
  signing?: { open: SignDecision; error?: string | undefined; comment?: string | undefined } | undefined;
}) {
  const { view, extras } = props;
  const item = view.case;
  const stored = view.draft;
  const draft = stored?.draft;
  const pending = item.status === 'awaiting_approval' && view.triage?.waitingForDecision;
  const settled = pending || ['closed', 'rejected', 'escalated'].includes(item.status);
  const tags = Object.keys(view.signals);
  return (
    <Layout
      title={item.id}
      user={props.user}
      refreshSeconds={settled ? undefined : 5}
      styles={[assetUrl('uplot.css')]}
      scripts={[assetUrl('uplot.js'), assetUrl('case.js'), assetUrl('sign-dialog.js')]}
    >
      <p>
        <a href="/cases">← All cases</a>
      </p>
      <h1>
        {item.id} <Badge value={item.status} /> <Badge value={item.severity} />
      </h1>
      <p>{item.title}</p>
      {props.error ? (
        <div class="error" role="alert">
          <p>{props.error}</p>
        </div>
      ) : null}
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      <p class="muted">
        Opened {time(item.createdAt)} UTC
        {item.context.line ? ` · line ${item.context.line}` : ''}
        {item.context.product ? ` · product ${item.context.product}` : ''}
        {item.context.lot ? ` · lot ${item.context.lot}` : ''}
        {item.context.order ? ` · order ${item.context.order}` : ''}
      </p>
      {item.description ? <p>{item.description}</p> : null}
      <NextStep view={view} extras={extras} />
      {(item.status === 'closed' || item.status === 'executing') && hasRole(props.user, rootCauseRoles) ? (
        <p class="card close-out-link">
          <a href={`/cases/${encodeURIComponent(item.id)}/close-out`}>Close out this case</a>: record what it turned out
          to be and confirm its root-cause category.
        </p>
      ) : null}

      <h2>Signals</h2>
      {tags.length === 0 ? <p class="muted">No signal is attached to this case.</p> : null}
      {tags.map((tag) => (
        <SignalChart
          tag={tag}
          readings={view.signals[tag] ?? []}
          deviations={view.deviations.filter((deviation) => deviation.tag === tag)}
        />
      ))}
      <table>
        <caption class="sr-only">Deviations of this case</caption>
        <thead>
          <tr>
            <th scope="col">Detected (UTC)</th>
            <th scope="col">Tag</th>
            <th scope="col">Detector / rule</th>
            <th scope="col" class="hide-narrow">
              Finding
            </th>
          </tr>
        </thead>
        <tbody>
          {view.deviations.map((deviation) => (
            <tr>
              <td>{time(deviation.detectedAt)}</td>
              <td>
                <TagName tag={deviation.tag} />
              </td>
              <td>
                {deviation.detector} / {deviation.rule}
              </td>
              <td class="hide-narrow">{deviation.message}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Multivariate contributions</h2>
      <Contributions deviations={view.deviations} />

      <h2>Evidence</h2>
      <details class="evidence">
        <summary>
          {extras.evidence
            ? `What triage looked at: ${extras.evidence.signals.length} signal(s), ${extras.evidence.sops.length} SOP passage(s), ${extras.evidence.incidents.length} past incident(s)`
            : 'What triage looked at'}
        </summary>
        <EvidenceSection evidence={extras.evidence} caseId={item.id} />
      </details>

      <h2 id="draft">
        Draft {draft ? `v${draft.version}` : ''}{' '}
        {draft?.source === 'offline' ? <span class="offline">Offline draft</span> : null}
      </h2>
      {!draft || !stored ? (
        <p class="muted">Triage is gathering evidence and drafting; this page refreshes itself.</p>
      ) : (
        <>
          {draft.source === 'offline' ? (
            <p class="muted">
              Written by the offline drafter, because no language model is configured or none answered: check the
              hypotheses against the cited SOPs.
            </p>
          ) : null}
          <p>{draft.summary}</p>
          <p class="muted">
            Written by {extras.people[draft.author] ?? draft.author} ({draft.model}) · record hash{' '}
            <code>{stored.recordHash.slice(0, 12)}</code>
          </p>
          {draft.flags
            .filter((flag) => /^(Redraft after|Edited by)/.test(flag))
            .map((flag) => (
              <p class="notice">{flag}</p>
            ))}
          {draft.flags.some((flag) => !/^(Redraft after|Edited by)/.test(flag)) ? (
            <ul>
              {draft.flags
                .filter((flag) => !/^(Redraft after|Edited by)/.test(flag))
                .map((flag) => (
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
                  {hypothesis.evidenceAgainst.map((line) => (
                    <li>
                      <span class="muted">Against:</span> {line}
                    </li>
                  ))}
                </ul>
                {hypothesis.citations.map((citation) => (
                  <CitationQuote citation={citation} caseId={item.id} />
                ))}
              </li>
            ))}
          </ol>
          <h2>CAPA plan (8D)</h2>
          <p>
            <strong>Team:</strong> {draft.capa.team.join(', ') || 'not named'}
          </p>
          <p>
            <strong>Problem:</strong> {draft.capa.problem}
          </p>
          {CAPA_SECTIONS.map(([key, title]) => (
            <CapaSection title={title} items={draft.capa[key]} caseId={item.id} />
          ))}
          {extras.edit.allowed ? (
            <CapaEditor
              caseId={item.id}
              draft={draft}
              csrfToken={props.csrfToken}
              open={props.editOpen ?? false}
              values={props.editValues}
            />
          ) : pending ? (
            <p class="muted">{extras.edit.reason}</p>
          ) : null}
          <h2 id="versions">Versions</h2>
          <VersionHistory versions={extras.versions} people={extras.people} />
          <h2>Proposed actions</h2>
          <ActionPreview draft={draft} />
        </>
      )}

      {pending && draft && extras.sign.allowed ? (
        <DecisionPanel
          caseId={item.id}
          stored={stored!}
          user={props.user}
          csrfToken={props.csrfToken}
          sso={extras.signsWithSso}
          now={extras.now}
          open={props.signing?.open}
          error={props.signing?.error}
          comment={props.signing?.comment}
        />
      ) : pending && draft ? (
        <section aria-labelledby="sign">
          <h2 id="sign">Decision</h2>
          <p class="card">You cannot sign this draft: {extras.sign.reason}</p>
        </section>
      ) : null}

      <h2 id="signatures">Signatures</h2>
      <SignatureList caseId={item.id} approvals={view.approvals} versions={extras.versions} />

      <h2>Action results</h2>
      {view.executions.length === 0 ? <p class="muted">Nothing has been released for execution.</p> : null}
      {view.executions.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Attempts
              </th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {view.executions.map((execution) => (
              <tr class="execution">
                <td>{execution.type.replaceAll('_', ' ')}</td>
                <td>
                  <Badge value={execution.status} />
                </td>
                <td class="num">{execution.attempts}</td>
                <td>
                  {execution.externalId
                    ? `Done: external id ${execution.externalId}`
                    : execution.lastError
                      ? `Failed: ${execution.lastError}`
                      : 'Not sent yet'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <h2 id="effectiveness">Effectiveness check</h2>
      <EffectivenessCheck effectiveness={view.triage?.effectiveness} />

      <h2>Audit trail</h2>
      <AuditTimeline entries={view.audit} people={extras.people} />
    </Layout>
  );
}
