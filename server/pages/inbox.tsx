import type { Case } from '../../core/index.ts';
import type { User } from '../../store/index.ts';
import { formatAge } from '../ui/overview-model.ts';
import { Badge, Layout } from './layout.tsx';

export interface InboxItem {
  case: Case;
  draftVersion: number;
  offline: boolean;
  /** Highest risk of the proposed actions. */
  risk: 'low' | 'medium' | 'high';
  /** Larger is more urgent: severity and risk. */
  priority: number;
  waitingHours: number;
  escalationLevel: number;
  escalatedTo: string | null;
  /** Hours until the request expires and escalates (negative: overdue); null when no timeout is configured. */
  expiresInHours: number | null;
  /** Why this user cannot sign it, or null when they can. */
  blockedBecause: string | null;
}

const priorityWord = (priority: number) =>
  priority >= 6 ? 'urgent' : priority >= 4 ? 'high' : priority >= 2 ? 'normal' : 'low';

function Escalation(props: { item: InboxItem }) {
  const { item } = props;
  const expiry =
    item.expiresInHours === null
      ? ''
      : item.expiresInHours <= 0
        ? 'overdue: escalates at the next sweep'
        : `escalates in ${formatAge(item.expiresInHours)}`;
  return item.escalationLevel > 0 ? (
    <>
      <Badge value="escalated" /> level {item.escalationLevel} to {item.escalatedTo ?? 'a human'}
      {expiry ? <div class="muted">{expiry}</div> : null}
    </>
  ) : (
    <span>not escalated{expiry ? <span class="muted"> · {expiry}</span> : null}</span>
  );
}

function InboxTable(props: { items: InboxItem[]; caption: string; action: string }) {
  return (
    <table class="inbox">
      <caption class="sr-only">{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Priority</th>
          <th scope="col">Case</th>
          <th scope="col" class="num">
            Waiting
          </th>
          <th scope="col">Escalation</th>
          <th scope="col">
            <span class="sr-only">Action</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((item) => (
          <tr>
            <td>
              <strong>{priorityWord(item.priority)}</strong>
              <div class="muted">
                {item.case.severity} severity · {item.risk} risk
              </div>
            </td>
            <td>
              <a class="case-id" href={`/cases/${encodeURIComponent(item.case.id)}`}>
                {item.case.id}
              </a>
              <div>{item.case.title}</div>
              <div class="muted">
                draft v{item.draftVersion} {item.offline ? <span class="offline">Offline draft</span> : null}
              </div>
              {item.blockedBecause ? <div class="muted">{item.blockedBecause}</div> : null}
            </td>
            <td class="num">{formatAge(item.waitingHours)}</td>
            <td>
              <Escalation item={item} />
            </td>
            <td>
              <a class="button" href={`/cases/${encodeURIComponent(item.case.id)}#sign`}>
                {props.action}
                <span class="sr-only"> {item.case.id}</span>
              </a>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Approvals waiting for the signed-in user's roles, most urgent first; then the ones others must sign. */
export function InboxPage(props: { user: User; mine: InboxItem[]; others: InboxItem[] }) {
  return (
    <Layout title="Inbox" user={props.user} refreshSeconds={30}>
      <h1>Inbox</h1>
      <p class="muted">
        Drafts waiting for a signed decision that your roles ({props.user.roles.join(', ') || 'none'}) may sign, most
        urgent first (case severity, then the risk of the proposed actions, then age).
      </p>
      <h2>Waiting for you ({props.mine.length})</h2>
      {props.mine.length === 0 ? (
        <p class="muted">
          Nothing is waiting for you.{' '}
          {props.user.roles.includes('admin') && props.user.roles.length === 1
            ? 'Admins administer andon; they do not sign quality records.'
            : 'New approval requests appear here as triage drafts them.'}
        </p>
      ) : (
        <InboxTable items={props.mine} caption="Approvals waiting for you" action="Review and sign" />
      )}
      {props.others.length > 0 ? (
        <>
          <h2>Waiting for someone else ({props.others.length})</h2>
          <p class="muted">You can read these, but you cannot sign them; the reason is under each case.</p>
          <InboxTable items={props.others} caption="Approvals waiting for others" action="Open" />
        </>
      ) : null}
    </Layout>
  );
}
