import { AndonError, ExecutionStatus } from '../../core/index.ts';
import { loadConfig } from '../config.ts';
import { createConfiguredActionRouter } from '../dispatcher.ts';
import { openStores } from '../runtime.ts';
import { parseCommandLine } from './args.ts';
import type { Command } from './command.ts';

const usage = `andon actions list [--status dead|pending|sending|failed|succeeded] [--limit N] [--json]
andon actions show ID [--json]                 one action with every attempt and its request preview
andon actions replay ID --user NAME [--reason TEXT]
                                               re-send a dead-lettered action: same payload, same Idempotency-Key
andon actions stats                            actions by status
andon actions check-config [FILE]              validate an actions config (default: ACTIONS_CONFIG) and list routes`;

/** Roles that may replay a dead-lettered action (the same as the web UI's). */
const replayRoles = ['quality_lead', 'admin'];

export const command: Command = {
  name: 'actions',
  summary: 'Approved actions: list, show, replay dead letters, check an actions config',
  usage,
  async run(args) {
    const parsed = parseCommandLine(
      args,
      {
        status: { type: 'string' },
        limit: { type: 'string' },
        user: { type: 'string' },
        reason: { type: 'string' },
        json: { type: 'boolean' },
      },
      `usage:\n${usage}`,
    );
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    const [verb, target] = positionals;
    if (!verb) {
      console.error(`Name a verb: list, show, replay, stats or check-config.\n\nusage:\n${usage}`);
      return 2;
    }
    const config = loadConfig();

    if (verb === 'check-config') {
      const file = target ?? config.ACTIONS_CONFIG;
      if (!file) throw new AndonError('bad_request', 'Name a file, or set ACTIONS_CONFIG.');
      const router = await createConfiguredActionRouter(
        { ACTIONS_CONFIG: file },
        { baseUrl: 'http://127.0.0.1/sandbox/erp', apiKey: 'unused' },
        process.env,
      );
      console.log(`${file}: valid`);
      for (const route of router.describe()) console.log(`  ${route.type.padEnd(24)} → ${route.endpoint}`);
      return 0;
    }

    const stores = await openStores(config);
    try {
      switch (verb) {
        case 'list': {
          const status = values.status === undefined ? undefined : ExecutionStatus.parse(values.status);
          const actions = await stores.outbox.list({ status, limit: positiveLimit(values.limit) });
          if (values.json) console.log(JSON.stringify(actions, null, 2));
          else if (actions.length === 0) console.log(`no actions${status ? ` with status ${status}` : ''}`);
          else {
            for (const action of actions) {
              console.log(
                `${action.id}  ${action.status.padEnd(9)} ${action.type.padEnd(24)} ${String(action.attempts).padStart(2)} attempt(s)  ${action.caseId}  ${action.externalId ?? action.lastError?.slice(0, 80) ?? ''}`,
              );
            }
          }
          return 0;
        }
        case 'show': {
          if (!target) throw new AndonError('bad_request', 'Name the action: andon actions show ACT-…');
          const action = await stores.outbox.get(target);
          if (!action)
            throw new AndonError('not_found', `Action ${target} does not exist; list them with andon actions list.`);
          const attempts = await stores.outbox.attempts(action.id);
          const router = await createConfiguredActionRouter(
            config,
            { baseUrl: `http://127.0.0.1:${config.PORT}/sandbox/erp`, apiKey: '***' },
            process.env,
          );
          const preview = await router.preview(action);
          if (values.json) {
            console.log(JSON.stringify({ action, attempts, preview: preview.ok ? preview.value : null }, null, 2));
            return 0;
          }
          console.log(`${action.id}  ${action.type}  ${action.status}  case ${action.caseId}`);
          console.log(`Idempotency-Key ${action.idempotencyKey}  external id ${action.externalId ?? '—'}`);
          console.log(`params ${JSON.stringify(action.params)}`);
          console.log(
            preview.ok
              ? `request ${preview.value.method} ${preview.value.url} (${preview.value.endpoint})`
              : `request: ${preview.error.message}`,
          );
          for (const attempt of attempts) {
            console.log(
              `  #${attempt.attempt} ${attempt.startedAt} ${attempt.outcome}${attempt.httpStatus ? ` ${attempt.httpStatus}` : ''} ${attempt.error ?? attempt.externalId ?? ''}`,
            );
          }
          return 0;
        }
        case 'replay': {
          if (!target || !values.user) {
            throw new AndonError('bad_request', 'usage: andon actions replay ID --user NAME [--reason TEXT]');
          }
          const user = await stores.users.byUsername(String(values.user));
          if (!user || user.disabled || user.kind !== 'human') {
            throw new AndonError('not_found', `No active person named ${values.user}.`);
          }
          if (!user.roles.some((role) => replayRoles.includes(role))) {
            await stores.audit.append({
              actor: { kind: 'user', id: user.id },
              action: 'action.replay_refused',
              subject: target,
              details: { reason: 'role', roles: user.roles, channel: 'cli' },
            });
            throw new AndonError(
              'forbidden',
              `Replaying needs the role ${replayRoles.join(' or ')}; ${user.username} has ${user.roles.join(', ')}.`,
            );
          }
          const action = await stores.outbox.replay(target, {
            id: user.id,
            channel: 'cli',
            ...(typeof values.reason === 'string' ? { reason: values.reason } : {}),
          });
          console.log(
            `${action.id} queued again (same payload, Idempotency-Key ${action.idempotencyKey}); a running andon delivers it.`,
          );
          return 0;
        }
        case 'stats': {
          const counts = await stores.outbox.counts();
          for (const [status, count] of Object.entries(counts)) console.log(`${status.padEnd(10)} ${count}`);
          return 0;
        }
        default:
          console.error(`andon actions: unknown verb "${verb}".\nusage:\n${usage}`);
          return 2;
      }
    } finally {
      await stores.database.close();
    }
  },
};

function positiveLimit(value: string | boolean | undefined): number {
  if (value === undefined) return 50;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new AndonError('bad_request', `--limit must be a whole number from 1 to 10000, not '${String(value)}'.`);
  }
  return limit;
}
