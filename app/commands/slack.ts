import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { AndonError } from '../../core/index.ts';
import { createSlackStore } from '../../store/index.ts';
import { loadConfig } from '../config.ts';
import { openStores } from '../runtime.ts';
import type { Command } from './command.ts';

const SlackUserId = /^[UW][A-Z0-9]{2,}$/;

export const command: Command = {
  name: 'slack',
  summary: 'Link Slack users to andon users (admin): slack map|unmap|users',
  usage: [
    'andon slack map --slack-user U0123ABCD --user NAME [--team T0123ABCD]',
    'andon slack unmap --slack-user U0123ABCD [--team T0123ABCD]',
    'andon slack users',
  ].join('\n       '),
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        'slack-user': { type: 'string' },
        team: { type: 'string' },
        user: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
    const action = positionals[0];
    const slackUser = values['slack-user'];
    const valid =
      (action === 'map' && slackUser && values.user) || (action === 'unmap' && slackUser) || action === 'users';
    if (values.help || !valid) {
      console.error(`usage: ${this.usage}`);
      return values.help ? 0 : 2;
    }
    if (slackUser && !SlackUserId.test(slackUser))
      throw new AndonError(
        'bad_request',
        `${slackUser} is not a Slack user id (U… or W…; see the user's profile → Copy member ID).`,
      );
    const stores = await openStores(loadConfig());
    const slack = createSlackStore(stores.database);
    const actor = { kind: 'service' as const, id: 'cli' };
    try {
      if (action === 'users') {
        for (const mapping of await slack.mappings()) {
          console.log(
            `${mapping.slackTeamId || '*'}\t${mapping.slackUserId}\t→ ${mapping.user.username} (${mapping.user.roles.join(', ')})${mapping.user.disabled ? ' disabled' : ''}`,
          );
        }
        return 0;
      }
      if (action === 'unmap') {
        const removed = await slack.unmapUser(values.team ?? '', slackUser!);
        if (!removed)
          throw new AndonError('not_found', `No link for Slack user ${slackUser}; list them with andon slack users.`);
        await stores.audit.append({
          actor,
          action: 'slack.user_unmapped',
          subject: slackUser!,
          details: { slackTeam: values.team ?? '', by: userInfo().username },
        });
        console.log(`Slack user ${slackUser} is no longer linked.`);
        return 0;
      }
      const user = await stores.users.byUsername(values.user!);
      if (!user) throw new AndonError('not_found', `No andon user named ${values.user}.`);
      if (user.kind !== 'human')
        throw new AndonError(
          'forbidden',
          `${user.username} is a ${user.kind} account; only people are linked to Slack.`,
        );
      await slack.mapUser({
        slackTeamId: values.team ?? '',
        slackUserId: slackUser!,
        userId: user.id,
        createdBy: userInfo().username,
      });
      await stores.audit.append({
        actor,
        action: 'slack.user_mapped',
        subject: slackUser!,
        details: { slackTeam: values.team ?? '', andonUser: user.id, username: user.username, by: userInfo().username },
      });
      console.log(`Slack user ${slackUser} is now andon user ${user.username} (${user.roles.join(', ')}).`);
      return 0;
    } finally {
      await stores.database.close();
    }
  },
};
