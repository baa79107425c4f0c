import { ChatOpenAI } from '@langchain/openai';
import { AndonError, type LlmPort, type LlmUsage, type StructuredRequest } from '../../core/index.ts';

export type StructuredMethod = 'json_schema' | 'function_calling' | 'json_mode';

export interface OpenAiLlmOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  model: string;
  /** How the model is asked for structured output; servers differ in what they support. */
  method?: StructuredMethod;
  timeoutMs?: number;
  /** Retries of 429, 5xx and timeouts with backoff (the OpenAI client honours Retry-After). */
  maxRetries?: number;
  /** Prices in USD per million tokens, for cost accounting; unset means cost is not known. */
  pricePerMillionInput?: number | undefined;
  pricePerMillionOutput?: number | undefined;
  /** Answers whose schema validation fails are asked again this many times. */
  repairAttempts?: number;
  fetch?: typeof fetch;
}

const methods = { json_schema: 'jsonSchema', function_calling: 'functionCalling', json_mode: 'jsonMode' } as const;

const isRetryable = (error: unknown): boolean => {
  const status = (error as { status?: number }).status;
  const name = (error as Error).name ?? '';
  return (
    status === 429 ||
    (status !== undefined && status >= 500) ||
    /Timeout|Abort|Connection/i.test(name) ||
    status === undefined
  );
};

/**
 * The chat model for LangChain tool calling (`bindTools`), as the read-only chat agent uses it (agent/chat.ts): any
 * OpenAI-compatible endpoint, with the same timeout and retries (429, 5xx and timeouts, honouring Retry-After).
 */
export function createOpenAiChatModel(
  options: Pick<OpenAiLlmOptions, 'baseUrl' | 'apiKey' | 'model' | 'timeoutMs' | 'maxRetries' | 'fetch'>,
): ChatOpenAI {
  return new ChatOpenAI({
    model: options.model,
    apiKey: options.apiKey ?? 'not-needed',
    timeout: options.timeoutMs ?? 60_000,
    maxRetries: options.maxRetries ?? 3,
    temperature: 0,
    configuration: { baseURL: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) },
  });
}

/**
 * The language model behind the agent: any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp
 * server) through LangChain's ChatOpenAI, with timeouts, retries on retryable errors, schema-validated output and
 * token and cost accounting.
 */
export function createOpenAiLlm(options: OpenAiLlmOptions): LlmPort {
  const chat = createOpenAiChatModel(options);
  const price = (usage: { input: number; output: number }): number | null =>
    options.pricePerMillionInput === undefined || options.pricePerMillionOutput === undefined
      ? null
      : (usage.input * options.pricePerMillionInput + usage.output * options.pricePerMillionOutput) / 1_000_000;

  return {
    model: options.model,
    async structured<T>(request: StructuredRequest<T>): Promise<{ value: T; usage: LlmUsage }> {
      const runnable = chat.withStructuredOutput(request.schema as never, {
        name: request.name,
        includeRaw: true,
        method: methods[options.method ?? 'json_schema'],
      });
      const usage = { input: 0, output: 0, calls: 0 };
      let problem = '';
      for (let attempt = 0; attempt <= (options.repairAttempts ?? 1); attempt += 1) {
        let result: { raw: { usage_metadata?: { input_tokens?: number; output_tokens?: number } }; parsed: unknown };
        try {
          result = (await runnable.invoke([
            { role: 'system', content: request.system },
            {
              role: 'user',
              content: problem
                ? `${request.user}\n\nYour previous answer was rejected: ${problem}\nAnswer again, following the schema exactly.`
                : request.user,
            },
          ])) as typeof result;
        } catch (error) {
          const message = (error as Error).message ?? String(error);
          const name = (error as Error).name ?? '';
          const invalidAnswer = /Zod|OutputParser|SyntaxError/.test(name) || /parse|schema|json/i.test(message);
          if (invalidAnswer && !(error as { status?: number }).status) {
            const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> }).issues;
            problem = issues
              ? issues
                  .slice(0, 5)
                  .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
                  .join('; ')
              : message.slice(0, 500);
            usage.calls += 1;
            continue;
          }
          throw new AndonError(
            'unavailable',
            `The language model at ${options.baseUrl} failed: ${message.slice(0, 300)}`,
            {
              retryable: isRetryable(error),
              cause: error,
            },
          );
        }
        usage.calls += 1;
        usage.input += result.raw.usage_metadata?.input_tokens ?? 0;
        usage.output += result.raw.usage_metadata?.output_tokens ?? 0;
        const checked = request.schema.safeParse(result.parsed);
        if (checked.success) {
          return {
            value: checked.data,
            usage: { calls: usage.calls, inputTokens: usage.input, outputTokens: usage.output, costUsd: price(usage) },
          };
        }
        problem = checked.error.issues
          .slice(0, 5)
          .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
          .join('; ');
      }
      throw new AndonError(
        'invalid_payload',
        `The language model's answer did not match the ${request.name} schema: ${problem}`,
      );
    },
  };
}
