import {
  AndonError,
  type Clock,
  type Deviation,
  type Disposition,
  type Priority,
  type ProductionContext,
  type Reading,
} from '../core/index.ts';
import {
  type AlarmActivation,
  type AlarmKpiReport,
  type AlarmManagerEvent,
  alarmKpis,
  type BankOptions,
  type KpiOptions,
  type ManagedAlarm,
  type ManagedAlarmEvent,
  proposeTuning,
} from '../detection/index.ts';
import { appendAudit } from './audit.ts';
import { insertDeviation } from './cases.ts';
import type { Database, Queryable } from './db.ts';
import { newId } from './ids.ts';
import type { User } from './users.ts';

export interface AlarmRow {
  id: string;
  key: string;
  tag: string;
  detector: string;
  rule: string;
  area: string | null;
  asset: string | null;
  state: string;
  priority: Priority;
  severity: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
  caseId: string | null;
  shelve: unknown;
  suppression: unknown;
}

export interface AlarmRequest {
  id: string;
  kind: 'shelve' | 'tuning';
  alarmKey: string;
  params: Record<string, unknown>;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string;
  /** For a tuning proposal: the backtest on the tag's stored history that backs it. */
  evidence: unknown;
}

/** What a false-alarm disposition did for each alarm of the case: a tuning proposal, or why there is none. */
export type TuningOutcome = { alarmKey: string; request: AlarmRequest } | { alarmKey: string; reason: string };

export interface FalseAlarmRate {
  /** A detector (`ewma`) or a tag. */
  name: string;
  cases: number;
  falseAlarms: number;
  planned: number;
  rate: number;
}

/** One write of a step of the alarm layer (see `commit`). */
export type AlarmLayerWrite =
  | {
      type: 'case.open';
      /** From `newCaseId`. */
      caseId: string;
      title: string;
      severity: Deviation['severity'];
      area: string | null;
      tags: string[];
      context: ProductionContext;
      /** The alarm that opened the case. */
      alarmKey: string;
    }
  | { type: 'case.join'; caseId: string; tags: string[]; flood?: { id: string; area: string; startedAt: string } }
  /** A deviation, recorded once, in its case or (an alarm that did not annunciate) in none. */
  | { type: 'deviation'; deviation: Deviation; caseId: string | null };

/** Everything one step of the alarm layer writes, in one transaction (`commit`). */
export interface AlarmLayerStep {
  writes: readonly AlarmLayerWrite[];
  events: readonly AlarmManagerEvent[];
  alarms: Readonly<Record<string, ManagedAlarm>>;
  /** The case of each alarm that case intake placed. */
  caseOf: Readonly<Record<string, string>>;
  /** The alarm layer's working state after the step; row `id` (default `pipeline`). */
  state: { snapshot: unknown; id?: string | undefined } | null;
}

/** Roles that may approve a shelve or a tuning change (until the governance work brings approval policies). */
export const ALARM_APPROVER_ROLES = ['supervisor', 'quality_lead'] as const;

const iso = (value: Date | string | null): string | null =>
  value === null ? null : value instanceof Date ? value.toISOString() : new Date(value).toISOString();

const actorOf = (user: User) => ({ kind: 'user' as const, id: user.id });

/** Audit actions for the alarm events the issue asks to audit: shelving, suppression, service and chattering. */
const AUDITED = new Set([
  'alarm.shelved',
  'alarm.unshelved',
  'alarm.suppressed',
  'alarm.unsuppressed',
  'alarm.removed_from_service',
  'alarm.returned_to_service',
  'alarm.chattering',
  'alarm.acknowledged',
]);

/** Alarm persistence: instances, activations for the KPIs, floods, approvals of shelving and tuning, dispositions. */
export function createAlarmStore(database: Database, clock: Clock) {
  const upsertAlarm = async (client: Queryable, alarm: ManagedAlarm, caseId: string | null) => {
    const record = alarm.record;
    if (record.id === null) return;
    await client.query(
      `insert into alarms (id, key, tag, detector, rule, area, asset, state, priority, severity, count, first_seen,
                           last_seen, case_id, record, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       on conflict (id) do update set state = excluded.state, priority = excluded.priority,
         severity = excluded.severity, count = excluded.count, last_seen = excluded.last_seen,
         case_id = coalesce(excluded.case_id, alarms.case_id), record = excluded.record, updated_at = excluded.updated_at`,
      [
        record.id,
        record.key,
        alarm.tag,
        alarm.detector,
        alarm.rule,
        alarm.area,
        alarm.asset,
        record.state,
        record.priority,
        alarm.severity,
        Math.max(1, record.count),
        record.firstSeen,
        record.lastSeen ?? record.firstSeen,
        caseId,
        JSON.stringify(record),
        clock.now(),
      ],
    );
  };

  /**
   * Persist what the alarm manager reported: the alarms it touched, activations (raised, cleared), floods, and an audit
   * entry for every shelve, suppression, service change, chattering and acknowledgement. `caseOf` gives the case of
   * alarms that case intake placed.
   */
  const writeEvents = async (
    client: Queryable,
    events: readonly AlarmManagerEvent[],
    alarms: Readonly<Record<string, ManagedAlarm>>,
    caseOf: Readonly<Record<string, string>>,
  ) => {
    const touched = new Set<string>();
    for (const event of events) {
      if (event.type === 'flood.started') {
        await client.query(
          'insert into alarm_floods (id, area, started_at, alarm_keys) values ($1, $2, $3, $4) on conflict do nothing',
          [event.floodId, event.area, event.time, event.keys],
        );
        await appendAudit(client, clock, {
          actor: { kind: 'service', id: 'alarm-management' },
          action: 'alarm.flood_started',
          subject: event.floodId,
          details: { area: event.area, alarms: event.keys.length },
        });
        continue;
      }
      if (event.type === 'flood.ended') {
        await client.query('update alarm_floods set ended_at = $2, alarm_keys = $3 where id = $1', [
          event.floodId,
          event.time,
          event.keys,
        ]);
        continue;
      }
      const alarm = alarms[event.key];
      if (!alarm) continue;
      if (!touched.has(event.key)) {
        touched.add(event.key);
        await upsertAlarm(client, alarm, caseOf[event.key] ?? null);
      }
      const alarmId = event.alarmId ?? alarm.record.id;
      if (alarmId === null) continue;
      if (event.type === 'alarm.raised') {
        await client.query(
          `insert into alarm_activations (alarm_id, key, tag, detector, rule, area, priority, flood_id, raised_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            alarmId,
            event.key,
            event.tag,
            event.detector,
            event.rule,
            event.area,
            event.priority,
            event.floodId,
            event.time,
          ],
        );
      } else if (
        event.type === 'alarm.cleared' ||
        (event.type === 'alarm.suppressed' && event.cause === 'chattering') ||
        event.type === 'alarm.shelved' ||
        event.type === 'alarm.removed_from_service'
      ) {
        await client.query('update alarm_activations set cleared_at = $2 where alarm_id = $1 and cleared_at is null', [
          alarmId,
          event.time,
        ]);
      }
      if (AUDITED.has(event.type)) {
        const audited: ManagedAlarmEvent = event;
        const {
          type,
          key,
          alarmId: _id,
          time,
          from,
          to,
          tag,
          detector,
          rule,
          area,
          asset,
          related: _r,
          ...details
        } = audited;
        const by = 'by' in event ? event.by : 'alarm-management';
        await appendAudit(client, clock, {
          actor:
            by === 'alarm-management' || by === 'configuration'
              ? { kind: 'service', id: by }
              : { kind: 'user', id: by },
          action: type,
          subject: alarmId,
          caseId: caseOf[key] ?? null,
          details: { key, time, from, to, tag, detector, rule, area, asset, ...details },
        });
      }
    }
  };

  /** A case opened from an alarm with its production context; audited as `case.opened`. */
  const insertCase = async (client: Queryable, write: AlarmLayerWrite & { type: 'case.open' }) => {
    const now = clock.now();
    await client.query(
      `insert into cases (id, title, status, severity, area, tags, context, thread_id, created_at, updated_at)
       values ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $8)`,
      [
        write.caseId,
        write.title.slice(0, 500),
        write.severity,
        write.area,
        write.tags,
        JSON.stringify(write.context),
        `case:${write.caseId}`,
        now,
      ],
    );
    await appendAudit(client, clock, {
      actor: { kind: 'service', id: 'case-intake' },
      action: 'case.opened',
      subject: write.caseId,
      caseId: write.caseId,
      details: { alarm: write.alarmKey, context: write.context },
    });
  };

  /** Add tags to a case an alarm joined; a flood marks the case as the flood's case. */
  const joinCase = async (client: Queryable, write: AlarmLayerWrite & { type: 'case.join' }) => {
    const { caseId, tags, flood } = write;
    await client.query(
      `update cases set tags = (select array_agg(distinct t) from unnest(tags || $2::text[]) t), updated_at = $3
       ${flood ? `, context = context || jsonb_build_object('flood', $4::jsonb)` : ''} where id = $1`,
      flood ? [caseId, tags, clock.now(), JSON.stringify(flood)] : [caseId, tags, clock.now()],
    );
    if (flood) await client.query('update alarm_floods set case_id = $2 where id = $1', [flood.id, caseId]);
  };

  const writeState = async (client: Queryable, snapshot: unknown, id: string) => {
    await client.query(
      `insert into alarm_state_snapshots (id, snapshot, saved_at) values ($1, $2, $3)
       on conflict (id) do update set snapshot = excluded.snapshot, saved_at = excluded.saved_at`,
      [id, JSON.stringify(snapshot), clock.now()],
    );
  };

  const store = {
    /** The id of a case that a later `commit` opens (the alarm layer's state names it before it is written). */
    newCaseId: (): string => newId('CASE', clock.now()),

    /**
     * Write one step of the alarm layer in one transaction: the cases it opened and joined, the deviations it
     * recorded, what the alarm manager reported, and the alarm layer's working state, which names the case each alarm
     * opened. A process killed in the middle leaves none of it, so whoever replays the step opens each case once; a
     * step that was written is not replayed into a second case, because the restored state already holds its case.
     */
    async commit(step: AlarmLayerStep): Promise<void> {
      if (step.writes.length === 0 && step.events.length === 0 && !step.state) return;
      await database.transaction(async (client) => {
        for (const write of step.writes) {
          if (write.type === 'case.open') await insertCase(client, write);
          else if (write.type === 'case.join') await joinCase(client, write);
          else await insertDeviation(client, clock, write.deviation, write.caseId);
        }
        await writeEvents(client, step.events, step.alarms, step.caseOf);
        if (step.state) await writeState(client, step.state.snapshot, step.state.id ?? 'pipeline');
      });
    },

    /** Whether a case still takes new alarms (not closed, rejected or escalated). */
    async caseIsActive(caseId: string): Promise<boolean> {
      const result = await database.query<{ status: string }>('select status from cases where id = $1', [caseId]);
      const status = result.rows[0]?.status;
      return status !== undefined && !['closed', 'rejected', 'escalated'].includes(status);
    },

    async list(filter: { active?: boolean; caseId?: string; limit?: number } = {}): Promise<AlarmRow[]> {
      const result = await database.query<{
        id: string;
        key: string;
        tag: string;
        detector: string;
        rule: string;
        area: string | null;
        asset: string | null;
        state: string;
        priority: Priority;
        severity: string;
        count: number;
        first_seen: Date;
        last_seen: Date;
        case_id: string | null;
        record: { shelve: unknown; suppression: unknown };
      }>(
        `select * from alarms where ($1::boolean is not true or state <> 'normal') and ($2::text is null or case_id = $2)
          order by last_seen desc limit $3`,
        [filter.active ?? null, filter.caseId ?? null, Math.min(filter.limit ?? 200, 1000)],
      );
      return result.rows.map((row) => ({
        id: row.id,
        key: row.key,
        tag: row.tag,
        detector: row.detector,
        rule: row.rule,
        area: row.area,
        asset: row.asset,
        state: row.state,
        priority: row.priority,
        severity: row.severity,
        count: row.count,
        firstSeen: iso(row.first_seen)!,
        lastSeen: iso(row.last_seen)!,
        caseId: row.case_id,
        shelve: row.record.shelve,
        suppression: row.record.suppression,
      }));
    },

    async activations(from: string, to: string, area?: string): Promise<AlarmActivation[]> {
      const result = await database.query<{
        key: string;
        tag: string;
        detector: string;
        rule: string;
        area: string | null;
        priority: Priority;
        raised_at: Date;
        cleared_at: Date | null;
      }>(
        `select key, tag, detector, rule, area, priority, raised_at, cleared_at from alarm_activations
          where raised_at >= $1 and raised_at < $2 and ($3::text is null or area = $3) order by raised_at`,
        [from, to, area ?? null],
      );
      return result.rows.map((row) => ({
        key: row.key,
        tag: row.tag,
        detector: row.detector,
        rule: row.rule,
        area: row.area,
        priority: row.priority,
        raisedAt: iso(row.raised_at)!,
        clearedAt: iso(row.cleared_at),
      }));
    },

    /** The ISA-18.2 KPI report of a period (default: the 24 hours up to now). */
    async report(options: Partial<KpiOptions> = {}): Promise<AlarmKpiReport> {
      const to = options.to ?? clock.now().toISOString();
      const from = options.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
      const activations = await store.activations(from, to, options.area);
      return alarmKpis(activations, { ...options, from, to });
    },

    /**
     * Ask to shelve an alarm. Shelving needs a second person's approval (`decideRequest`); until the governance work
     * brings configurable approval policies, that is any supervisor or quality lead other than the requester.
     */
    async requestShelve(input: {
      alarmKey: string;
      mode: 'one-shot' | 'timed';
      seconds?: number;
      maxSeconds: number;
      reason: string;
      requester: User;
    }): Promise<AlarmRequest> {
      if (!input.reason.trim()) throw new AndonError('bad_request', 'Say why the alarm should be shelved (reason).');
      if (input.mode === 'timed' && !((input.seconds ?? 0) > 0 && (input.seconds ?? 0) <= input.maxSeconds))
        throw new AndonError(
          'bad_request',
          `A timed shelve lasts more than 0 s and at most ${input.maxSeconds} s (the maximum shelve time); ${input.seconds ?? 0} s was asked.`,
        );
      const known = await database.query('select 1 from alarms where key = $1 limit 1', [input.alarmKey]);
      if (known.rowCount === 0) throw new AndonError('not_found', `No alarm ${input.alarmKey} has ever been raised.`);
      return store.createRequest({
        kind: 'shelve',
        alarmKey: input.alarmKey,
        params: { mode: input.mode, ...(input.mode === 'timed' ? { seconds: input.seconds } : {}) },
        reason: input.reason,
        requester: input.requester,
      });
    },

    async createRequest(input: {
      kind: 'shelve' | 'tuning';
      alarmKey: string;
      params: Record<string, unknown>;
      reason: string;
      requester: User;
    }): Promise<AlarmRequest> {
      const now = clock.now();
      const id = newId(input.kind === 'shelve' ? 'SHELVE' : 'TUNE', now);
      await database.transaction(async (client) => {
        await client.query(
          `insert into alarm_requests (id, kind, alarm_key, params, reason, requested_by, requested_at, status)
           values ($1, $2, $3, $4, $5, $6, $7, 'pending')`,
          [id, input.kind, input.alarmKey, JSON.stringify(input.params), input.reason, input.requester.id, now],
        );
        await appendAudit(client, clock, {
          actor: actorOf(input.requester),
          action: `alarm.${input.kind}_requested`,
          subject: id,
          details: { key: input.alarmKey, params: input.params, reason: input.reason },
        });
      });
      return (await store.request(id))!;
    },

    async request(id: string): Promise<AlarmRequest | null> {
      const result = await database.query<{
        id: string;
        kind: AlarmRequest['kind'];
        alarm_key: string;
        params: Record<string, unknown>;
        reason: string;
        requested_by: string;
        requested_at: Date;
        status: AlarmRequest['status'];
        decided_by: string | null;
        decided_at: Date | null;
        comment: string;
        evidence: unknown;
      }>('select * from alarm_requests where id = $1', [id]);
      const row = result.rows[0];
      return row
        ? {
            id: row.id,
            kind: row.kind,
            alarmKey: row.alarm_key,
            params: row.params,
            reason: row.reason,
            requestedBy: row.requested_by,
            requestedAt: iso(row.requested_at)!,
            status: row.status,
            decidedBy: row.decided_by,
            decidedAt: iso(row.decided_at),
            comment: row.comment,
            evidence: row.evidence ?? null,
          }
        : null;
    },

    async requests(status: AlarmRequest['status'] | null = 'pending'): Promise<AlarmRequest[]> {
      const result = await database.query<{ id: string }>(
        'select id from alarm_requests where ($1::text is null or status = $1) order by requested_at desc limit 200',
        [status],
      );
      return (await Promise.all(result.rows.map((row) => store.request(row.id)))).filter(
        (request): request is AlarmRequest => request !== null,
      );
    },

    /** Approve or reject a pending request: a supervisor or quality lead, never the requester. Audited. */
    async decideRequest(input: {
      id: string;
      approver: User;
      decision: 'approve' | 'reject';
      comment?: string;
      /** The approval policy (server/decisions.ts approveChange) authorised this decision: skip the built-in roles. */
      policyApproved?: boolean;
    }): Promise<AlarmRequest> {
      const request = await store.request(input.id);
      if (!request) throw new AndonError('not_found', `No alarm request ${input.id}.`);
      if (request.status !== 'pending')
        throw new AndonError('conflict', `Request ${input.id} was already ${request.status}.`);
      if (
        !input.policyApproved &&
        !input.approver.roles.some((role) => (ALARM_APPROVER_ROLES as readonly string[]).includes(role))
      )
        throw new AndonError(
          'forbidden',
          `Only a ${ALARM_APPROVER_ROLES.join(' or ')} may approve a ${request.kind} request.`,
        );
      if (input.approver.id === request.requestedBy)
        throw new AndonError(
          'forbidden',
          `A ${request.kind} request needs a second person: you requested ${input.id}.`,
        );
      const status = input.decision === 'approve' ? 'approved' : 'rejected';
      await database.transaction(async (client) => {
        await client.query(
          `update alarm_requests set status = $2, decided_by = $3, decided_at = $4, comment = $5 where id = $1 and status = 'pending'`,
          [input.id, status, input.approver.id, clock.now(), input.comment ?? ''],
        );
        await appendAudit(client, clock, {
          actor: actorOf(input.approver),
          action: `alarm.${request.kind}_${status}`,
          subject: input.id,
          details: { key: request.alarmKey, params: request.params, comment: input.comment ?? '' },
        });
      });
      return (await store.request(input.id))!;
    },

    /** Record what a case turned out to be. Audited; the latest disposition of a case counts. */
    async recordDisposition(input: {
      caseId: string;
      disposition: Disposition;
      comment?: string;
      user: User;
    }): Promise<void> {
      if (!input.user.roles.some((role) => ['operator', 'engineer', 'supervisor', 'quality_lead'].includes(role)))
        throw new AndonError(
          'forbidden',
          'Only operators, engineers, supervisors and quality leads record dispositions.',
        );
      await database.transaction(async (client) => {
        const found = await client.query('select 1 from cases where id = $1', [input.caseId]);
        if (found.rowCount === 0) throw new AndonError('not_found', `No case ${input.caseId}.`);
        await client.query(
          'insert into case_dispositions (case_id, disposition, comment, user_id, at) values ($1, $2, $3, $4, $5)',
          [input.caseId, input.disposition, input.comment ?? '', input.user.id, clock.now()],
        );
        await appendAudit(client, clock, {
          actor: actorOf(input.user),
          action: 'case.disposition_recorded',
          subject: input.caseId,
          caseId: input.caseId,
          details: { disposition: input.disposition, comment: input.comment ?? '' },
        });
      });
    },

    /**
     * False-alarm rate per detector and per tag: of the dispositioned cases an alarm of it took part in, the share
     * dispositioned as false alarms (planned ones are counted apart and not as false).
     */
    async falseAlarmRates(): Promise<{ byDetector: FalseAlarmRate[]; byTag: FalseAlarmRate[] }> {
      const rates = async (column: 'detector' | 'tag') => {
        const result = await database.query<{ name: string; cases: string; false_alarms: string; planned: string }>(
          `with latest as (
             select distinct on (case_id) case_id, disposition from case_dispositions order by case_id, at desc, id desc
           )
           select a.${column} as name, count(distinct l.case_id) as cases,
                  count(distinct l.case_id) filter (where l.disposition = 'false_alarm') as false_alarms,
                  count(distinct l.case_id) filter (where l.disposition = 'planned') as planned
             from alarms a join latest l on l.case_id = a.case_id
            group by a.${column} order by 3 desc, 1`,
        );
        return result.rows.map((row) => ({
          name: row.name,
          cases: Number(row.cases),
          falseAlarms: Number(row.false_alarms),
          planned: Number(row.planned),
          rate: Number(row.false_alarms) / Math.max(1, Number(row.cases)),
        }));
      };
      return { byDetector: await rates('detector'), byTag: await rates('tag') };
    },

    /** Save the alarm layer's working state (one row per pipeline, replaced each time). */
    async saveState(snapshot: unknown, id = 'pipeline'): Promise<void> {
      await database.transaction((client) => writeState(client, snapshot, id));
    },

    /** Approved tuning changes, oldest first, to re-apply to a fresh detector bank at start. */
    async approvedTunings(): Promise<
      { id: string; tag: string; setting: string; parameter: string; proposed: number }[]
    > {
      const result = await database.query<{ id: string; params: Record<string, unknown> }>(
        `select id, params from alarm_requests where kind = 'tuning' and status = 'approved' order by decided_at, id`,
      );
      return result.rows.flatMap(({ id, params }) =>
        typeof params.tag === 'string' &&
        typeof params.setting === 'string' &&
        typeof params.parameter === 'string' &&
        typeof params.proposed === 'number'
          ? [{ id, tag: params.tag, setting: params.setting, parameter: params.parameter, proposed: params.proposed }]
          : [],
      );
    },

    /** The last saved working state, or null (first start). The caller validates it. */
    async loadState(id = 'pipeline'): Promise<{ snapshot: unknown; savedAt: string } | null> {
      const result = await database.query<{ snapshot: unknown; saved_at: Date }>(
        'select snapshot, saved_at from alarm_state_snapshots where id = $1',
        [id],
      );
      const row = result.rows[0];
      return row ? { snapshot: row.snapshot, savedAt: iso(row.saved_at)! } : null;
    },

    /**
     * After a false-alarm disposition: for each alarm of the case that operators have now called false at least
     * `minimumFalseAlarms` times (default 3), backtest wider limits on the tag's stored history and record the smallest
     * that removes the false alarms and keeps the true deviations as a pending tuning request (approved like any
     * change). One pending proposal per alarm.
     */
    async proposeTuningFor(input: {
      caseId: string;
      requester: User;
      readings: { window(tag: string, from: Date, to: Date, limit?: number): Promise<Reading[]> };
      settings: BankOptions;
      minimumFalseAlarms?: number;
      historyDays?: number;
    }): Promise<TuningOutcome[]> {
      const minimum = input.minimumFalseAlarms ?? 3;
      const result = await database.query<{ key: string; tag: string }>(
        `select distinct tag || ':' || detector || ':' || rule as key, tag from deviations where case_id = $1 order by 1`,
        [input.caseId],
      );
      const outcomes: TuningOutcome[] = [];
      for (const { key, tag } of result.rows) {
        const { falseAlarms, trueDeviations } = await store.dispositionedAlarms(key);
        if (falseAlarms.length < minimum) {
          outcomes.push({
            alarmKey: key,
            reason: `${falseAlarms.length} of ${minimum} false alarms needed for a proposal`,
          });
          continue;
        }
        const pending = await database.query<{ id: string }>(
          `select id from alarm_requests where kind = 'tuning' and alarm_key = $1 and status = 'pending' limit 1`,
          [key],
        );
        if (pending.rows[0]) {
          outcomes.push({
            alarmKey: key,
            reason: `tuning request ${pending.rows[0].id} is already waiting for approval`,
          });
          continue;
        }
        const to = clock.now();
        const from = new Date(to.getTime() - (input.historyDays ?? 14) * 86_400_000);
        const history = await input.readings.window(tag, from, to, 50_000);
        const outcome = proposeTuning({ key, history, settings: input.settings, falseAlarms, trueDeviations });
        if (!outcome.proposal) {
          outcomes.push({ alarmKey: key, reason: outcome.reason });
          continue;
        }
        const proposal = outcome.proposal;
        const request = await store.createRequest({
          kind: 'tuning',
          alarmKey: key,
          params: {
            tag: proposal.tag,
            detector: proposal.detector,
            rule: proposal.rule,
            setting: proposal.setting,
            parameter: proposal.parameter,
            current: proposal.current,
            proposed: proposal.proposed,
          },
          reason: `${falseAlarms.length} occurrences dispositioned false alarm. ${proposal.summary}`,
          requester: input.requester,
        });
        await database.query('update alarm_requests set evidence = $2 where id = $1', [
          request.id,
          JSON.stringify(proposal.backtest),
        ]);
        outcomes.push({ alarmKey: key, request: (await store.request(request.id))! });
      }
      return outcomes;
    },

    /**
     * When an alarm (`tag:detector:rule`) started in cases dispositioned false alarm or true deviation, once per
     * occurrence (each raise of the alarm): a case that one alarm joined three times holds three false alarms. An
     * occurrence belongs to a case when its activation overlaps the alarm's deviations recorded on the case (an alarm
     * instance can span several cases, its deviations cannot); it is dated by its raise, or by the case's first
     * deviation of the alarm when that is later. A case with no recorded activation (data from before alarm
     * management) counts once, at its first deviation of the alarm.
     */
    async dispositionedAlarms(key: string): Promise<{ falseAlarms: string[]; trueDeviations: string[] }> {
      const [tag, detector, ...rule] = key.split(':');
      const result = await database.query<{ disposition: Disposition; first_seen: Date }>(
        `with latest as (
           select distinct on (case_id) case_id, disposition from case_dispositions order by case_id, at desc, id desc
         ), spans as (
           select d.case_id, l.disposition, min(d.detected_at) as first_seen, max(d.detected_at) as last_seen
             from deviations d join latest l on l.case_id = d.case_id
            where d.tag = $1 and d.detector = $2 and d.rule = $3 and l.disposition in ('false_alarm', 'true_deviation')
            group by d.case_id, l.disposition
         )
         select s.disposition, greatest(s.first_seen, a.raised_at) as first_seen
           from spans s
           left join lateral (
             select a.raised_at from alarm_activations a
              where a.tag = $1 and a.detector = $2 and a.rule = $3
                and a.raised_at <= s.last_seen and coalesce(a.cleared_at, 'infinity') >= s.first_seen
           ) a on true
          order by 2`,
        [tag ?? '', detector ?? '', rule.join(':')],
      );
      return {
        falseAlarms: result.rows.filter((row) => row.disposition === 'false_alarm').map((row) => iso(row.first_seen)!),
        trueDeviations: result.rows
          .filter((row) => row.disposition === 'true_deviation')
          .map((row) => iso(row.first_seen)!),
      };
    },
  };
  return store;
}

export type AlarmStore = ReturnType<typeof createAlarmStore>;
