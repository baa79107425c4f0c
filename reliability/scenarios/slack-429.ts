import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { createSlackSender } from '../../connectors/slack/index.ts';
import { atLeast, exactly, type Figure, info } from '../figures.ts';

/**
 * Slack answers every third chat.postMessage with 429 and Retry-After: 1 (a fake Web API over real HTTP). andon's
 * Slack sender, built as the Slack app builds its client, must deliver every notification, later, in order per channel.
 */
export async function slackRateLimited(messages = 30): Promise<Figure[]> {
  let calls = 0;
  let limited = 0;
  const delivered: Array<{ channel: string; text: string; at: number }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      calls++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      if (calls % 3 === 0) {
        limited++;
        response.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
        return;
      }
      delivered.push({ channel: form.get('channel') ?? '', text: form.get('text') ?? '', at: Date.now() });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, channel: form.get('channel'), ts: `${Date.now() / 1000}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new webApi.WebClient('xoxb-reliability', {
    slackApiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  });
  const sender = createSlackSender(client, { log: () => {} });
  const started = Date.now();
  const sent: Array<{ channel: string; text: string; queuedAt: number }> = [];
  try {
    await Promise.all(
      Array.from({ length: messages }, (_, index) => {
        const channel = `C0LINE${index % 3}`;
        const text = `case ${index}`;
        sent.push({ channel, text, queuedAt: Date.now() });
        return sender.call('chat.postMessage', { channel, text }, channel);
      }),
    );
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const unique = new Set(delivered.map((message) => `${message.channel}|${message.text}`));
  let inOrder = 0;
  for (const channel of new Set(sent.map((message) => message.channel))) {
    const want = sent.filter((message) => message.channel === channel).map((message) => message.text);
    const got = delivered.filter((message) => message.channel === channel).map((message) => message.text);
    if (JSON.stringify(want) === JSON.stringify(got)) inOrder++;
  }
  const scenario = 'Slack 429 (delayed, not lost)';
  return [
    exactly(scenario, 'notifications sent', sent.length, messages),
    atLeast(scenario, '429 answers (Retry-After 1 s)', limited, 1),
    exactly(scenario, 'notifications delivered', unique.size, messages),
    exactly(scenario, 'notifications lost', messages - unique.size, 0),
    exactly(scenario, 'notifications delivered twice', delivered.length - unique.size, 0),
    exactly(scenario, 'channels in order', inOrder, 3),
    info(scenario, 'time to deliver all (s)', Math.round((Date.now() - started) / 100) / 10),
  ];
}
