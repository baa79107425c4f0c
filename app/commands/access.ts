import { userInfo } from 'node:os';
import { AndonError } from '../../core/index.ts';
import { loadConfig } from '../config.ts';
import { openStores } from '../runtime.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';

const usage = `usage: andon access scope --user NAME [--grant ROLE@SCOPE]...   set (or with no --grant clear) a user's role scopes
       andon access link --user NAME --with OTHER                  mark two accounts as one person (two-person rule)
       andon access oidc-map --claim VALUE --grant ROLE[@SCOPE]...  an identity-provider group grants andon roles
       andon access oidc-unmap --claim VALUE
       andon access oidc-mappings

Scopes are plant-<id>/area-<id>/line-<id> paths, e.g. quality_lead@plant-a/area-packaging (docs/governance.md).`;

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : value ? [String(value)] : []);

/** `andon access`: the admin-managed parts of identity and access. Every change is audited. */
export const command: Command = {
  name: 'access',
  summary: 'Role scopes, linked accounts and OIDC group mappings (admin)',
  usage,
  async run(args) {
    const [verb, ...rest] = args;
    if (!verb || verb === '--help' || verb === '-h') {
      console.log(usage);
      return verb ? 0 : 2;
    }
    if (!['scope', 'link', 'oidc-map', 'oidc-unmap', 'oidc-mappings'].includes(verb)) {
      console.error(`Unknown access command ${verb}.\n\n${usage}`);
      return 2;
    }
    const required = {
      scope: ['user'],
      link: ['user', 'with'],
      'oidc-map': ['claim', 'grant'],
      'oidc-unmap': ['claim'],
    }[verb as 'scope'];
    const values = parseCommandArgs(
      rest,
      {
        user: { type: 'string' },
        with: { type: 'string' },
        claim: { type: 'string' },
        grant: { type: 'string', multiple: true },
      },
      usage,
      required ?? [],
    );
    if (typeof values === 'number') return values;
    const stores = await openStores(loadConfig());
    const by = (() => {
      try {
        return userInfo().username;
      } catch {
        return 'cli';
      }
    })();
    const audit = (action: string, subject: string, details: Record<string, unknown>) =>
      stores.audit.append({ actor: { kind: 'service', id: 'cli' }, action, subject, details: { ...details, by } });
    const userNamed = async (name: string) => {
      const user = await stores.users.byUsername(name);
      if (!user) throw new AndonError('not_found', `No andon user named ${name}.`);
      return user;
    };
    try {
      if (verb === 'oidc-mappings') {
        for (const [claim, grants] of await stores.users.oidcClaimMappings())
          console.log(`${claim}\t→ ${grants.join(', ')}`);
        return 0;
      }
      if (verb === 'oidc-unmap') {
        const claim = String(values.claim);
        if (!(await stores.users.unmapOidcClaim(claim)))
          throw new AndonError('not_found', `No mapping for ${claim}; list them with andon access oidc-mappings.`);
        await audit('access.oidc_unmapped', claim, {});
        console.log(`${claim} grants no andon role any more (from the next sign-in).`);
        return 0;
      }
      if (verb === 'oidc-map') {
        const claim = String(values.claim);
        const grants = list(values.grant);
        await stores.users.mapOidcClaim(claim, grants, by);
        await audit('access.oidc_mapped', claim, { grants });
        console.log(`${claim} grants ${grants.join(', ')} (from the next sign-in).`);
        return 0;
      }
      const user = await userNamed(String(values.user));
      if (verb === 'link') {
        const other = await userNamed(String(values.with));
        await stores.users.linkPerson(user.id, other.id);
        await audit('access.accounts_linked', user.id, { with: other.id });
        console.log(`${user.username} and ${other.username} are one person now: they count once towards approvals.`);
        return 0;
      }
      const grants = list(values.grant);
      const undeclared = grants
        .map((grant) => grant.split('@')[0]!)
        .filter((role) => !user.roles.includes(role as never));
      if (undeclared.length > 0)
        throw new AndonError(
          'bad_request',
          `${user.username} does not hold ${undeclared.join(', ')}; a scope narrows a role the user has (${user.roles.join(', ')}).`,
        );
      await stores.users.setScopes(user.id, grants);
      await audit('access.scopes_set', user.id, { scopes: grants });
      console.log(
        grants.length
          ? `${user.username}: ${grants.join(', ')}`
          : `${user.username}: roles hold everywhere (no scopes).`,
      );
      return 0;
    } finally {
      await stores.database.close();
    }
  },
};
