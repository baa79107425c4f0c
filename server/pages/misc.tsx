import type { AuditEntry } from '../../core/index.ts';
import type { AuditVerification, SandboxEffect, User } from '../../store/index.ts';
import { Layout } from './layout.tsx';

export function AuditPage(props: { user: User; entries: AuditEntry[]; verification: AuditVerification }) {
  const v = props.verification;
  return (
    <Layout title="Audit" user={props.user}>
      <h1>Audit trail</h1>
      <p class={v.ok ? 'notice' : 'error'} role="status">
        {v.ok
          ? `Chain verified: ${v.entries} entries, every link intact.`
          : `Chain broken at entry ${v.firstBroken?.seq}: ${v.firstBroken?.reason}.`}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Subject</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((entry) => (
            <tr>
              <td>{entry.seq}</td>
              <td>{entry.at.replace('T', ' ').slice(0, 19)}</td>
              <td>
                {entry.actor.kind}:{entry.actor.id}
              </td>
              <td>{entry.action}</td>
              <td>
                {entry.caseId ? (
                  <a href={`/cases/${encodeURIComponent(entry.caseId)}`}>{entry.subject}</a>
                ) : (
                  entry.subject
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

export function SandboxPage(props: { user: User; effects: SandboxEffect[] }) {
  return (
    <Layout title="Sandbox ERP" user={props.user}>
      <h1>Sandbox ERP</h1>
      <p class="muted">
        The embedded stand-in for your ERP/QMS. Approved actions arrive here through the outbox, one effect per
        idempotency key.
      </p>
      {props.effects.length === 0 ? <p>No effects yet.</p> : null}
      <table>
        <thead>
          <tr>
            <th scope="col">Effect</th>
            <th scope="col">Kind</th>
            <th scope="col">Body</th>
            <th scope="col">Idempotency key</th>
          </tr>
        </thead>
        <tbody>
          {props.effects.map((effect) => (
            <tr class="effect">
              <td>{effect.id}</td>
              <td>{effect.kind}</td>
              <td>
                <pre>{JSON.stringify(effect.body, null, 1)}</pre>
              </td>
              <td>
                <code>{effect.idempotencyKey}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

export function ErrorPage(props: { user: User | null; status: number; message: string }) {
  return (
    <Layout title={`Error ${props.status}`} user={props.user}>
      <h1>{props.status === 404 ? 'Not found' : 'Something went wrong'}</h1>
      <p class="error" role="alert">
        {props.message}
      </p>
      <p>
        <a href="/">Back to the cases</a>
      </p>
    </Layout>
  );
}
