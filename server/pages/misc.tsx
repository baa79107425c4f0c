import type { SandboxEffect, User } from '../../store/index.ts';
import { Layout } from './layout.tsx';

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
