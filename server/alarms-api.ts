/**
 * The alarms API, a Hono sub-app the server mounts at /api/v1/alarms: ISA-18.2 KPI report (also the data of a UI
 * panel), the alarm list, acknowledgement, shelving with a second person's approval, suppression and service changes,
 * case dispositions and false-alarm rates. Authentication as everywhere else: a session cookie (writes need the CSRF
 * token) or a bearer token.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { AndonError, type ApprovalPolicy, type AuditPort, Disposition, type Reading } from '../core/index.ts';
import type { AlarmManagerEvent, BankOptions, TagSettings } from '../detection/index.ts';
import type { AlarmStore, CaseStore, PolicySignoffStore, User, UserStore } from '../store/index.ts';
import { type AuthVariables, authenticate, caseScope, checkCsrf, requireUser } from './auth.ts';
import { approveChange } from './decisions.ts';
import { errorResponse } from './errors.ts';

/** Operator commands on live alarms; the pipeline implements it (`pipeline.alarms`). */
export interface AlarmCommands {
  command(
    key: string,
    command:
      | { type: 'acknowledge'; by: string }
      | { type: 'shelve'; by: string; reason: string; mode: 'one-shot' | 'timed'; seconds?: number }
      | { type: 'unshelve'; by: string }
      | { type: 'suppress'; by: string; reason: string; cause?: 'design' | 'operator' }
      | { type: 'unsuppress'; by: string }
      | { type: 'remove_from_service'; by: string; reason: string }
      | { type: 'return_to_service'; by: string },
  ): Promise<AlarmManagerEvent[]>;
  maxShelveSeconds(key: string): number;
  /** Apply an approved tuning proposal's limit to the live detector of a tag. */
  tune?(tag: string, settings: TagSettings): void;
}

export interface AlarmsApiDeps {
  alarms: AlarmStore;
  users: UserStore;
  commands: AlarmCommands;
  /**
   * The cases, so a case disposition follows role scopes like every other single-case route (404 outside the user's
   * plants and areas). Required: a disposition route without the scope check would let anyone label any case.
   */
  cases: Pick<CaseStore, 'get'>;
  log?: (line: string) => void;
  /**
   * The approval policy engine (server/decisions.ts approveChange): with it, shelve and tuning (detector limit)
   * requests follow the approval policy, including two-person rules; without it, the built-in second-person rule.
   */
  governance?: { signoffs: PolicySignoffStore; policy?: ApprovalPolicy | undefined; audit?: AuditPort | undefined };
  /**
   * Tuning proposals: with them, a false-alarm disposition backtests wider limits on the tag's stored readings (with
   * the live bank's settings) and records a pending tuning request once an alarm has been called false often enough.
   */
  tuning?: {
    readings: { window(tag: string, from: Date, to: Date, limit?: number): Promise<Reading[]> };
    settings: BankOptions;
    minimumFalseAlarms?: number;
  };
}

type Env = { Variables: AuthVariables };

const Time = z.iso.datetime({ offset: true });
const ReportQuery = z.object({ from: Time.optional(), to: Time.optional(), area: z.string().max(200).optional() });
const Key = z.string().min(1).max(400);
const ShelveBody = z.object({
  key: Key,
  mode: z.enum(['one-shot', 'timed']),
  seconds: z.number().int().positive().optional(),
  reason: z.string().trim().min(1, 'say why the alarm should be shelved').max(2000),
});
const DecisionBody = z.object({ decision: z.enum(['approve', 'reject']), comment: z.string().max(2000).default('') });
const KeyBody = z.object({ key: Key });
const HoldBody = z.object({ key: Key, reason: z.string().trim().min(1).max(2000) });
const DispositionBody = z.object({ disposition: Disposition, comment: z.string().max(4000).default('') });

const OPERATING_ROLES = ['operator', 'supervisor', 'engineer', 'quality_lead'];
const SUPERVISING_ROLES = ['supervisor', 'quality_lead', 'engineer'];

function requireRole(user: User, roles: readonly string[], what: string): void {
  if (!user.roles.some((role) => roles.includes(role)))
    throw new AndonError('forbidden', `Only a ${roles.join(', ')} may ${what}.`);
}

const rejected = (events: AlarmManagerEvent[]) => {
  const refusal = events.find((event) => event.type === 'alarm.command_rejected');
  if (refusal && refusal.type === 'alarm.command_rejected')
    throw new AndonError('conflict', `Refused: ${refusal.reason}.`);
};

/**
 * Create the alarms sub-app.
 *
 * @example
 * createServer({ ...deps, mounts: [{ path: '/api/v1/alarms', app: createAlarmsApi({ alarms, users, commands: pipeline.alarms, cases }) }] });
 */
export function createAlarmsApi(deps: AlarmsApiDeps) {
  const app = new Hono<Env>();
  app.onError((error, c) => errorResponse(error, c, deps.log));
  app.use('*', async (c, next) => {
    if (!c.get('requestId')) c.set('requestId', crypto.randomUUID());
    await next();
  });
  app.use('*', authenticate(deps.users));

  /** ISA-18.2 KPIs of a period (default the last 24 h), each beside its target: the data of the KPI panel. */
  app.get('/report', async (c) => {
    requireUser(c);
    const query = ReportQuery.parse(c.req.query());
    return c.json(
      await deps.alarms.report({
        ...(query.from === undefined ? {} : { from: query.from }),
        ...(query.to === undefined ? {} : { to: query.to }),
        ...(query.area === undefined ? {} : { area: query.area }),
      }),
    );
  });

  app.get('/', async (c) => {
    requireUser(c);
    const active = c.req.query('active') === 'true';
    return c.json({ alarms: await deps.alarms.list({ active }) });
  });

  app.post('/acknowledge', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, OPERATING_ROLES, 'acknowledge alarms');
    const { key } = KeyBody.parse(await c.req.json());
    const events = await deps.commands.command(key, { type: 'acknowledge', by: user.id });
    rejected(events);
    if (events.length === 0) throw new AndonError('not_found', `No live alarm ${key}.`);
    return c.json({ events });
  });

  /** Ask to shelve: recorded as pending until a second person approves it. */
  app.post('/shelve-requests', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, OPERATING_ROLES, 'ask to shelve alarms');
    const body = ShelveBody.parse(await c.req.json());
    const request = await deps.alarms.requestShelve({
      alarmKey: body.key,
      mode: body.mode,
      ...(body.seconds === undefined ? {} : { seconds: body.seconds }),
      maxSeconds: deps.commands.maxShelveSeconds(body.key),
      reason: body.reason,
      requester: user,
    });
    return c.json({ request }, 201);
  });

  app.get('/shelve-requests', async (c) => {
    requireUser(c);
    return c.json({ requests: await deps.alarms.requests(c.req.query('all') === 'true' ? null : 'pending') });
  });

  /** Approve or reject a pending request; an approved shelve is applied to the live alarm at once. */
  app.post('/requests/:id/decision', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    const body = DecisionBody.parse(await c.req.json());
    let policyApproved = false;
    if (deps.governance) {
      const pending = await deps.alarms.request(c.req.param('id'));
      if (!pending) throw new AndonError('not_found', `No alarm request ${c.req.param('id')}.`);
      if (pending.status !== 'pending')
        throw new AndonError('conflict', `Request ${pending.id} was already ${pending.status}.`);
      const alarm = (await deps.alarms.list({ limit: 5000 })).find((row) => row.key === pending.alarmKey);
      const outcome = await approveChange(
        { users: deps.users, ...deps.governance },
        {
          subject: pending.kind === 'shelve' ? 'alarm_shelve' : 'detector_limit',
          subjectId: pending.id,
          risk: alarm?.priority ?? 'high',
          user,
          decision: body.decision,
          comment: body.comment,
          requestedBy: [pending.requestedBy],
          location: alarm ? { area: alarm.area } : null,
        },
      );
      if (!outcome.complete)
        return c.json(
          { request: pending, events: [], pending: { signed: outcome.signed, required: outcome.required } },
          202,
        );
      policyApproved = true;
    }
    const request = await deps.alarms.decideRequest({
      id: c.req.param('id'),
      approver: user,
      decision: body.decision,
      comment: body.comment,
      policyApproved,
    });
    let events: AlarmManagerEvent[] = [];
    if (request.status === 'approved' && request.kind === 'shelve') {
      const params = request.params as { mode: 'one-shot' | 'timed'; seconds?: number };
      events = await deps.commands.command(request.alarmKey, {
        type: 'shelve',
        by: request.requestedBy,
        reason: `${request.reason} (approved by ${user.username} in ${request.id})`,
        mode: params.mode,
        ...(params.seconds === undefined ? {} : { seconds: params.seconds }),
      });
      rejected(events);
    }
    if (request.status === 'approved' && request.kind === 'tuning') {
      const params = request.params as { tag: string; setting: string; parameter: string; proposed: number };
      deps.commands.tune?.(params.tag, { [params.setting]: { [params.parameter]: params.proposed } } as TagSettings);
    }
    return c.json({ request, events });
  });

  app.post('/unshelve', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, OPERATING_ROLES, 'unshelve alarms');
    const { key } = KeyBody.parse(await c.req.json());
    const events = await deps.commands.command(key, { type: 'unshelve', by: user.id });
    rejected(events);
    return c.json({ events });
  });

  for (const [path, type, undo] of [
    ['suppress', 'suppress', 'unsuppress'],
    ['out-of-service', 'remove_from_service', 'return_to_service'],
  ] as const) {
    app.post(`/${path}`, async (c) => {
      const user = requireUser(c);
      checkCsrf(c);
      requireRole(user, SUPERVISING_ROLES, `${path.replaceAll('-', ' ')} alarms`);
      const { key, reason } = HoldBody.parse(await c.req.json());
      const events = await deps.commands.command(
        key,
        type === 'suppress' ? { type, by: user.id, reason, cause: 'operator' } : { type, by: user.id, reason },
      );
      rejected(events);
      if (events.length === 0) throw new AndonError('not_found', `No live alarm ${key}.`);
      return c.json({ events });
    });
    app.delete(`/${path}`, async (c) => {
      const user = requireUser(c);
      checkCsrf(c);
      requireRole(user, SUPERVISING_ROLES, `change ${path.replaceAll('-', ' ')} alarms`);
      const { key } = KeyBody.parse(await c.req.json());
      const events = await deps.commands.command(key, { type: undo, by: user.id });
      rejected(events);
      return c.json({ events });
    });
  }

  /** What a case turned out to be: true deviation, false alarm or planned. Feeds the false-alarm rates. */
  app.use('/cases/:id/disposition', caseScope(deps.cases));
  app.post('/cases/:id/disposition', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    const body = DispositionBody.parse(await c.req.json());
    await deps.alarms.recordDisposition({ caseId: c.req.param('id'), ...body, user });
    const tuning =
      body.disposition === 'false_alarm' && deps.tuning
        ? await deps.alarms.proposeTuningFor({ caseId: c.req.param('id'), requester: user, ...deps.tuning })
        : [];
    return c.json({ caseId: c.req.param('id'), disposition: body.disposition, tuning }, 201);
  });

  app.get('/false-alarm-rates', async (c) => {
    requireUser(c);
    return c.json(await deps.alarms.falseAlarmRates());
  });

  return app;
}
