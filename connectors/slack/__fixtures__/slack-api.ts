import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';

/** One Web API call as the fake Slack received it, with nested JSON fields (blocks, view) parsed. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

/**
 * A fake Slack Web API at https://slack.com/api/* (and the file upload host) with msw: it records every call and
 * answers like Slack. `failNext` makes the next call of a method fail (429 with Retry-After, or `ok: false`).
 */
export function fakeSlackApi() {
  const calls: SlackCall[] = [];
  const failures = new Map<string, Array<{ status: 429; retryAfter: number } | { error: string }>>();
  let ts = 1_700_000_000;
  const nextTs = () => {
    ts += 1;
    return `${ts}.000100`;
  };
  const server = setupServer(
    http.post('https://slack.com/api/:method', async ({ request, params }) => {
      const method = String(params.method);
      const form = new URLSearchParams(await request.text());
      const args: Record<string, unknown> = {};
      for (const [key, value] of form) {
        try {
          args[key] = /^[[{]/.test(value) ? JSON.parse(value) : value;
        } catch {
          args[key] = value;
        }
      }
      calls.push({ method, args, at: Date.now() });
      const failure = failures.get(method)?.shift();
      if (failure && 'status' in failure)
        return new HttpResponse(JSON.stringify({ ok: false, error: 'ratelimited' }), {
          status: 429,
          headers: { 'retry-after': String(failure.retryAfter), 'content-type': 'application/json' },
        });
      if (failure) return HttpResponse.json({ ok: false, error: failure.error });
      switch (method) {
        case 'auth.test':
          return HttpResponse.json({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1', user: 'andon' });
        case 'chat.postMessage':
          return HttpResponse.json({ ok: true, channel: args.channel, ts: nextTs(), message: {} });
        case 'chat.update':
          return HttpResponse.json({ ok: true, channel: args.channel, ts: args.ts });
        case 'files.getUploadURLExternal':
          return HttpResponse.json({
            ok: true,
            upload_url: 'https://files.slack.com/upload/v1/abc',
            file_id: 'F0CHART',
          });
        case 'files.completeUploadExternal':
          return HttpResponse.json({ ok: true, files: [{ id: 'F0CHART', title: 'chart' }] });
        default:
          return HttpResponse.json({ ok: true });
      }
    }),
    http.post('https://files.slack.com/upload/v1/:id', async ({ request }) => {
      calls.push({ method: 'upload', args: { bytes: (await request.arrayBuffer()).byteLength }, at: Date.now() });
      return new HttpResponse('OK', { status: 200 });
    }),
  );
  return {
    server,
    calls,
    of: (method: string) => calls.filter((call) => call.method === method),
    failNext(method: string, failure: { status: 429; retryAfter: number } | { error: string }) {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    reset() {
      calls.length = 0;
      failures.clear();
    },
  };
}

/** Every mrkdwn and plain text inside a Block Kit structure, joined (for assertions on what a user reads). */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.text === 'string') return record.text;
    return Object.entries(record)
      .filter(
        ([key]) =>
          !['action_id', 'block_id', 'value', 'private_metadata', 'callback_id', 'style', 'type'].includes(key),
      )
      .map(([, child]) => textOf(child))
      .join('\n');
  }
  return '';
}
