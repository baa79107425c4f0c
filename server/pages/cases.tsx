import type { Case } from '../../core/index.ts';
import type { User } from '../../store/index.ts';
import { Badge, Layout } from './layout.tsx';

export function CasesPage(props: { user: User; cases: Case[] }) {
  return (
    <Layout title="Cases" user={props.user} refreshSeconds={10}>
      <h1>Cases</h1>
      {props.cases.length === 0 ? (
        <p class="muted">
          No cases yet. The simulator's drift opens one within about a minute of start; this page refreshes itself.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Case</th>
              <th scope="col">Title</th>
              <th scope="col">Status</th>
              <th scope="col" class="hide-narrow">
                Severity
              </th>
              <th scope="col" class="hide-narrow">
                Opened
              </th>
            </tr>
          </thead>
          <tbody>
            {props.cases.map((item) => (
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
                <td class="hide-narrow">{item.createdAt.replace('T', ' ').slice(0, 19)} UTC</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
