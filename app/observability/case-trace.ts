import { type Context, context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ActionDelivery } from '../../connectors/erp/index.ts';
import type { Triage } from '../../graph/index.ts';
import type { ClaimedExecution, Database } from '../../store/index.ts';
import type { Metrics } from './metrics.ts';
import { contextFromTraceparent, currentTraceparent, inSpan } from './tracing.ts';

/**
 * Carries a case's trace through the database: the trace context it was opened in is stored on the case row
 * (`cases.traceparent`), and everything done for the case later (triage steps after a restart, a signed decision,
 * the outbox's HTTP calls) runs as part of that trace, whichever process does it.
 */
export function createCaseTraces(database: Pick<Database, 'query'>) {
  return {
    /** Store the active trace context on the case, unless it has one. */
    async remember(caseId: string, active: Context = context.active()): Promise<void> {
      const traceparent = currentTraceparent(active);
      if (!traceparent) return;
      await database.query('update cases set traceparent = $2 where id = $1 and traceparent is null', [
        caseId,
        traceparent,
      ]);
    },
    /** The case's trace context (a new root when it has none). */
    async contextOf(caseId: string): Promise<Context> {
      const { rows } = await database.query<{ traceparent: string | null }>(
        'select traceparent from cases where id = $1',
        [caseId],
      );
      return contextFromTraceparent(rows[0]?.traceparent);
    },
  };
}

export type CaseTraces = ReturnType<typeof createCaseTraces>;

/** The triage with each start, resume and continue running inside its case's trace. */
export function traceTriage(triage: Triage, traces: CaseTraces): Triage {
  const within =
    <A extends unknown[], R>(name: string, run: (caseId: string, ...rest: A) => Promise<R>) =>
    async (caseId: string, ...rest: A): Promise<R> => {
      // A case opened in this process already runs inside its trace; elsewhere, pick the trace up from the row.
      const active = context.active();
      const parent = currentTraceparent(active) ? active : await traces.contextOf(caseId);
      return inSpan(name, { parent, attributes: { 'andon.case_id': caseId } }, () => run(caseId, ...rest));
    };
  return {
    ...triage,
    start: within('triage.start', triage.start),
    resume: within('triage.resume', triage.resume),
    continue: within('triage.continue', triage.continue),
  };
}

/**
 * The action delivery with each attempt in an `outbox.send` client span (in the case's trace) and counted by outcome.
 */
export function traceDelivery<T extends Pick<ActionDelivery, 'send'> & Partial<Pick<ActionDelivery, 'endpointOf'>>>(
  delivery: T,
  traces: CaseTraces,
  metrics: Pick<Metrics, 'outboxAttempt'>,
): T {
  const send: ActionDelivery['send'] = async (execution) => {
    const claimed = execution as ClaimedExecution;
    const parent = await traces.contextOf(claimed.caseId).catch(() => context.active());
    return inSpan(
      'outbox.send',
      {
        kind: SpanKind.CLIENT,
        parent,
        attributes: {
          'andon.case_id': claimed.caseId,
          'andon.action.id': claimed.id,
          'andon.action.type': claimed.type,
          'andon.action.attempt': claimed.attempts,
          'server.address': delivery.endpointOf?.(execution) ?? 'erp',
        },
      },
      async (span) => {
        const result = await delivery.send(execution);
        if (result.ok) {
          if (result.value.httpStatus !== undefined)
            span.setAttribute('http.response.status_code', result.value.httpStatus);
          metrics.outboxAttempt(claimed.type, 'ok');
        } else {
          if (result.error.httpStatus !== undefined)
            span.setAttribute('http.response.status_code', result.error.httpStatus);
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.message.slice(0, 200) });
          metrics.outboxAttempt(claimed.type, result.error.code);
        }
        return result;
      },
    );
  };
  return { ...delivery, send };
}
