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
  return async (state) => {
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
  };
}
