import { SpanStatusCode, trace } from '@opentelemetry/api';
import { isAndonError } from '../core/index.ts';
import type { TriageState, TriageUpdate } from './state.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Run a node with retries for retryable errors; any other failure, or the last retryable one, becomes `state.error`
 * so the graph routes the case to a human instead of hanging. Never wrap a node that calls interrupt().
 */
export function guard(
  name: string,
  node: (state: TriageState) => Promise<TriageUpdate>,
  attempts = 3,
): (state: TriageState) => Promise<TriageUpdate> {
  // One span per node run (a no-op without a tracer provider): the trace of a case and andon_graph_node_seconds.
  return (state) =>
    trace
      .getTracer('andon')
      .startActiveSpan(
        'graph.node',
        { attributes: { 'andon.graph.node': name, 'andon.case_id': state.caseId } },
        async (span) => {
          const update = await runWithRetries(state);
          if (typeof update.error === 'string') {
            span.setAttribute('andon.graph.outcome', 'error');
            span.setStatus({ code: SpanStatusCode.ERROR, message: update.error.slice(0, 200) });
          }
          span.end();
          return update;
        },
      );

  async function runWithRetries(state: TriageState): Promise<TriageUpdate> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await node(state);
      } catch (error) {
        const retryable = isAndonError(error) && error.retryable;
        if (retryable && attempt < attempts) {
          await sleep(200 * 2 ** (attempt - 1));
          continue;
        }
        return {
          error: `${name} failed${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${(error as Error).message}`,
        };
      }
    }
  }
}
