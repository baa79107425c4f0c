import { parseArgs } from 'node:util';
import { AndonError } from '../../core/index.ts';
import { type Role, Roles } from '../../store/index.ts';
import { loadConfig } from '../config.ts';
import { openStores } from '../runtime.ts';
import type { Command } from './command.ts';

export const command: Command = {
  name: 'token',
  summary: 'Create an API token for automation (printed once; only its hash is stored)',
  usage: 'andon token create --user NAME [--role ROLE]... [--name LABEL]',
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        user: { type: 'string' },
        role: { type: 'string', multiple: true },
        name: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    if (values.help || positionals[0] !== 'create' || !values.user) {
      console.error(`usage: ${this.usage}`);
      return values.help ? 0 : 2;
    }
    for (const role of values.role ?? []) {
      if (!Roles.includes(role as Role))
        throw new AndonError('bad_request', `Unknown role ${role}; roles are ${Roles.join(', ')}.`);
    }
    const stores = await openStores(loadConfig());
    try {
      const user = await stores.users.byUsername(values.user);
      if (!user)
        throw new AndonError(
          'not_found',
          `No user named ${values.user}. Users are created at first start (demo) or by an admin.`,
        );
      const roles = (values.role as Role[] | undefined) ?? user.roles;
      const missing = roles.filter((role) => !user.roles.includes(role));
      if (missing.length > 0)
        throw new AndonError(
          'forbidden',
          `${user.username} does not hold ${missing.join(', ')}; a token never has more roles than its user.`,
        );
      const token = await stores.users.createToken(user.id, values.name ?? 'cli', roles);
      await stores.audit.append({
        actor: { kind: 'user', id: user.id },
        action: 'token.created',
        subject: user.username,
        details: { roles, name: values.name ?? 'cli' },
      });
      console.log(token);
      return 0;
    } finally {
      await stores.database.close();
    }
  },
};
