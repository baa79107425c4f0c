import { HttpResponse } from 'msw';

/** An OpenAI chat completion as the fake endpoint answers it: text, or calls of tools. */
export interface FakeCompletion {
  content?: string;
  toolCalls?: Array<{ name: string; arguments: string }>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

const base = { id: 'chatcmpl-1', created: 1, model: 'gpt-test' };

/**
 * Answer a chat completion request like OpenAI: as JSON, or, when the client asked for a stream, as server-sent
 * events with the text in several deltas, each tool call in its own delta, then the usage chunk and [DONE].
 */
export function openAiReply(request: { stream?: boolean }, reply: FakeCompletion): Response {
  const usage = { ...(reply.usage ?? { prompt_tokens: 100, completion_tokens: 20 }) };
  const total = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    index,
    id: `call_${index}`,
    type: 'function',
    function: call,
  }));
  const finish = toolCalls.length > 0 ? 'tool_calls' : 'stop';
  if (!request.stream) {
    return HttpResponse.json({
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          finish_reason: finish,
          message: {
            role: 'assistant',
            content: reply.content ?? null,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(({ index: _, ...call }) => call) } : {}),
          },
        },
      ],
      usage: total,
    });
  }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
  const text = reply.content ?? '';
  const pieces =
    text.length === 0
      ? []
      : [0, 1, 2, 3].map((part) => text.slice((part * text.length) / 4, ((part + 1) * text.length) / 4));
  const events = [
    chunk({ role: 'assistant', content: '' }),
    ...pieces.filter(Boolean).map((piece) => chunk({ content: piece })),
    ...toolCalls.map((call) => chunk({ tool_calls: [call] })),
    chunk({}, finish),
    { ...base, object: 'chat.completion.chunk', choices: [], usage: total },
  ];
  const body = `${events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('')}data: [DONE]\n\n`;
  return new HttpResponse(body, { headers: { 'content-type': 'text/event-stream' } });
}
