import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../app/config.ts';
import { startAndon } from '../../app/runtime.ts';
import { atLeast, exactly, type Figure, info } from '../figures.ts';

type Fault = 'http 500' | 'timeout' | 'malformed JSON';

/** An OpenAI-compatible endpoint that fails every chat completion in one way, and counts the calls. */
async function startFaultyModel(fault: () => Fault) {
  const calls: Record<Fault, number> = { 'http 500': 0, timeout: 0, 'malformed JSON': 0 };
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const now = fault();
      calls[now]++;
      if (now === 'http 500') {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'injected failure', type: 'server_error' } }));
      } else if (now === 'timeout') {
        hanging.add(response); // never answers; the client's timeout must fire
        response.on('close', () => hanging.delete(response));
      } else {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'chatcmpl-fault',
            object: 'chat.completion',
            created: 0,
            model: 'faulty',
            choices: [
              {
                index: 0,
                finish_reason: 'stop',
                message: { role: 'assistant', content: '{"summary": "unterminated', tool_calls: [] },
              },
            ],
            usage: { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of hanging) response.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The language model fails (500s, no answer, answers that are not the schema): each case is retried, then goes to a
 * human (escalated) within a bounded time; no case hangs in triage.
 */
export async function llmFaults(casesPerFault = 3): Promise<Figure[]> {
  const figures: Figure[] = [];
  const faults: Fault[] = ['http 500', 'timeout', 'malformed JSON'];
  let current: Fault = 'http 500';
  const model = await startFaultyModel(() => current);
  const config = loadConfig({
    PORT: '0',
    ANDON_DATA_DIR: 'memory://reliability-llm',
    MQTT_EMBEDDED_PORT: '0',
    SIMULATOR: 'false',
    LOG_LEVEL: 'silent',
    OPENAI_BASE_URL: model.url,
    OPENAI_API_KEY: 'sk-reliability',
    OPENAI_MODEL: 'faulty',
    OPENAI_TIMEOUT_MS: '1000',
    OPENAI_MAX_RETRIES: '2',
  });
  const andon = await startAndon(config, { log: () => {} });
  try {
    for (const fault of faults) {
      current = fault;
      const scenario = `LLM fault: ${fault}`;
      const before = model.calls[fault];
      let escalated = 0;
      let hung = 0;
      let slowest = 0;
      for (let index = 0; index < casesPerFault; index++) {
        const opened = await andon.cases.create({
          title: `${fault} case ${index + 1}`,
          description: 'seal temperature drift on packaging line 1',
        });
        const started = Date.now();
        const status = await Promise.race([
          andon.triage.start(opened.id),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 120_000).unref()),
        ]);
        slowest = Math.max(slowest, (Date.now() - started) / 1000);
        if (status === null) hung++;
        const stored = await andon.cases.get(opened.id);
        if (status?.outcome?.startsWith('escalated') && stored?.status === 'escalated') escalated++;
      }
      const calls = model.calls[fault] - before;
      figures.push(
        exactly(scenario, 'cases escalated to a human', escalated, casesPerFault),
        exactly(scenario, 'cases hanging in triage (> 120 s)', hung, 0),
        atLeast(scenario, 'model calls per case (retries)', Math.round((calls / casesPerFault) * 10) / 10, 2),
        info(scenario, 'slowest case to escalation (s)', Math.round(slowest * 10) / 10),
      );
    }
  } finally {
    await andon.close();
    await model.close();
  }
  return figures;
}
