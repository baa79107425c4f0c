import type { KnowledgeBase } from '../knowledge/index.ts';
import { loadDemoKnowledge } from '../knowledge/index.ts';
import type { Role, UserStore } from '../store/index.ts';

/** The demo users of the embedded default, listed in the README. Never seeded on a real database unless asked. */
export const demoUsers: Array<{ username: string; displayName: string; password: string; roles: Role[] }> = [
  { username: 'quality', displayName: 'Quinn Quality', password: 'andon-quality', roles: ['quality_lead'] },
  { username: 'supervisor', displayName: 'Sam Supervisor', password: 'andon-supervisor', roles: ['supervisor'] },
  { username: 'operator', displayName: 'Olivia Operator', password: 'andon-operator', roles: ['operator'] },
  { username: 'engineer', displayName: 'Eli Engineer', password: 'andon-engineer', roles: ['engineer'] },
  { username: 'admin', displayName: 'Ada Admin', password: 'andon-admin', roles: ['admin'] },
];

export async function seedDemoUsers(users: UserStore): Promise<number> {
  let created = 0;
  for (const user of demoUsers) {
    if (await users.byUsername(user.username)) continue;
    await users.create(user);
    created += 1;
  }
  return created;
}

export async function seedDemoKnowledge(knowledgeBase: KnowledgeBase): Promise<{ documents: number; chunks: number }> {
  const summary = await loadDemoKnowledge(knowledgeBase);
  return { documents: summary.documents, chunks: summary.chunks };
}
