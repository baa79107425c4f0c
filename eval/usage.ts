import { AsyncLocalStorage } from 'node:async_hooks';

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface Usage {
  prompt: number;
  completion: number;
  requests: number;
}

const empty = (): Usage => ({ prompt: 0, completion: 0, requests: 0 });

/**
 * Token accounting at the HTTP boundary: wrap the fetch an OpenAI-compatible client uses, and every response's `usage`
 * is added to the case whose work made the request (tracked with AsyncLocalStorage, so concurrent cases do not mix).
 */
export function createUsageMeter() {
  const current = new AsyncLocalStorage<Usage>();
  const total = empty();
  return {
    /** Run `work` with its LLM usage counted apart; returns the result and the usage. */
    async measure<T>(work: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
      const usage = empty();
      const value = await current.run(usage, work);
      return { value, usage };
    },
    total: () => ({ ...total }),
    wrap(inner: FetchLike): FetchLike {
      return async (input, init) => {
        const response = await inner(input, init);
        const counted = current.getStore();
        const type = response.headers.get('content-type') ?? '';
        if (type.includes('json')) {
          const body = (await response
            .clone()
            .json()
            .catch(() => null)) as { usage?: Record<string, unknown> } | null;
          const usage = body?.usage ?? {};
          const prompt = Number(usage.prompt_tokens ?? usage.input_tokens ?? 0) || 0;
          const completion = Number(usage.completion_tokens ?? usage.output_tokens ?? 0) || 0;
          for (const target of counted ? [counted, total] : [total]) {
            target.prompt += prompt;
            target.completion += completion;
            target.requests += 1;
          }
        }
        return response;
      };
    },
  };
}

export type UsageMeter = ReturnType<typeof createUsageMeter>;
