import type { Role, User } from '../../store/index.ts';

/**
 * The main navigation, one entry per page. `roles` lists who sees the link (empty: every signed-in user);
 * the server still checks each route on its own, so a hidden link is a courtesy, not the control.
 */
export interface NavEntry {
  href: string;
  label: string;
  roles: readonly Role[];
}

export const NAV: readonly NavEntry[] = [
  { href: '/', label: 'Overview', roles: [] },
  { href: '/inbox', label: 'Inbox', roles: ['quality_lead', 'supervisor', 'maintenance', 'engineer', 'admin'] },
  { href: '/cases', label: 'Cases', roles: [] },
  { href: '/alarms', label: 'Alarms', roles: [] },
  { href: '/kb', label: 'Knowledge', roles: [] },
  { href: '/evals', label: 'Evals', roles: ['evaluator', 'engineer', 'quality_lead', 'admin'] },
  { href: '/actions', label: 'Actions', roles: ['quality_lead', 'supervisor', 'maintenance', 'engineer', 'admin'] },
  { href: '/audit', label: 'Audit', roles: ['quality_lead', 'admin', 'evaluator'] },
  { href: '/sandbox', label: 'Sandbox ERP', roles: [] },
];

/** The entries this user may see; nothing but sign-in for an anonymous visitor. */
export function navFor(user: User | null): NavEntry[] {
  if (!user) return [];
  return NAV.filter((entry) => entry.roles.length === 0 || entry.roles.some((role) => user.roles.includes(role)));
}
