import { createHmac, timingSafeEqual } from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { z } from 'zod';

/** Why a request to the Slack endpoint was refused. Each refusal is audited. */
export type SlackRefusal = 'missing_signature' | 'stale_timestamp' | 'bad_signature' | 'replayed' | 'bad_payload';

export interface HonoReceiverOptions {
  signingSecret: string;
  /** Called for every refused request, with what the (unverified) body claims about its sender. */
  onRefused(refusal: { reason: SlackRefusal; claimedTeam: string | null; claimedUser: string | null }): Promise<void>;
  log?: (line: string) => void;
  now?: () => number;
  /** Slack wants an answer within 3 s; an unacknowledged request is answered 404 after this long (default 2900). */
  ackTimeoutMs?: number;
  bodyLimitBytes?: number;
}

/** Slack's replay window: a signed request older (or newer) than this is refused. */
export const SLACK_WINDOW_SECONDS = 5 * 60;

const Payload = z.record(z.string(), z.unknown());

/**
 * A Bolt receiver that lives inside andon's Hono server, on the same port. It verifies Slack's v0 signature
 * (HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret) within a 5-minute window in both directions,
 * refuses an exact replay of a request it has seen inside that window, hands the body to `App#processEvent` and answers
 * with what the listener acknowledged (a view submission's `response_action`, for instance) as soon as it does.
 */
export class HonoReceiver implements Receiver {
  private app: App | undefined;
  private readonly seen = new Map<string, number>();
  constructor(private readonly options: HonoReceiverOptions) {}

  init(app: App): void {
    this.app = app;
  }
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    this.seen.clear();
    return Promise.resolve();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private claims(raw: string, contentType: string): { team: string | null; user: string | null } {
    try {
      const body = parseBody(raw, contentType);
      const team = body.team as { id?: unknown } | undefined;
      const user = body.user as { id?: unknown } | undefined;
      const event = body.event as { user?: unknown } | undefined;
      const pick = (...values: unknown[]) => (values.find((value) => typeof value === 'string') as string) ?? null;
      return { team: pick(team?.id, body.team_id), user: pick(user?.id, body.user_id, event?.user) };
    } catch {
      return { team: null, user: null };
    }
  }

  private async refuse(reason: SlackRefusal, raw: string, contentType: string): Promise<Response> {
    const claimed = this.claims(raw, contentType);
    this.options.log?.(`slack: refused a request (${reason})`);
    await this.options.onRefused({ reason, claimedTeam: claimed.team, claimedUser: claimed.user });
    return new Response(
      JSON.stringify({ error: { code: 'unauthenticated', message: `Slack request refused: ${reason}` } }),
      {
        status: 401,
        headers: { 'content-type': 'application/json' },
      },
    );
  }

  /** Verify and dispatch one HTTP request from Slack. */
  async handle(request: Request): Promise<Response> {
    const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim();
    const limit = this.options.bodyLimitBytes ?? 4 * 1024 * 1024;
    if (Number(request.headers.get('content-length') ?? 0) > limit)
      return new Response('payload too large', { status: 413 });
    const raw = await request.text();
    if (raw.length > limit) return new Response('payload too large', { status: 413 });
    if (contentType === 'application/x-www-form-urlencoded' && new URLSearchParams(raw).get('ssl_check') === '1') {
      return new Response('', { status: 200 });
    }
    const signature = request.headers.get('x-slack-signature') ?? '';
    const timestampHeader = request.headers.get('x-slack-request-timestamp') ?? '';
    if (!signature || !/^\d{1,12}$/.test(timestampHeader)) return this.refuse('missing_signature', raw, contentType);
    const timestamp = Number(timestampHeader);
    const nowSeconds = Math.floor(this.now() / 1000);
    if (Math.abs(nowSeconds - timestamp) > SLACK_WINDOW_SECONDS)
      return this.refuse('stale_timestamp', raw, contentType);
    const expected = `v0=${createHmac('sha256', this.options.signingSecret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      return this.refuse('bad_signature', raw, contentType);
    }
    for (const [key, until] of this.seen) if (until < nowSeconds) this.seen.delete(key);
    if (this.seen.has(signature)) return this.refuse('replayed', raw, contentType);
    this.seen.set(signature, timestamp + SLACK_WINDOW_SECONDS);

    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, contentType);
    } catch {
      return this.refuse('bad_payload', raw, contentType);
    }
    if (body.type === 'url_verification' && typeof body.challenge === 'string') {
      return Response.json({ challenge: body.challenge });
    }
    if (!this.app) return new Response('Slack app is not ready', { status: 503 });

    let answer: (response: Response) => void = () => {};
    const answered = new Promise<Response>((resolve) => {
      answer = resolve;
    });
    let acknowledged = false;
    const ack: ReceiverEvent['ack'] = async (response?: unknown) => {
      if (acknowledged) throw new Error('ack() was called twice for one Slack request');
      acknowledged = true;
      answer(toResponse(response));
    };
    const retryNum = Number(request.headers.get('x-slack-retry-num') ?? Number.NaN);
    const retryReason = request.headers.get('x-slack-retry-reason');
    const event: ReceiverEvent = {
      body,
      ack,
      ...(Number.isFinite(retryNum) ? { retryNum } : {}),
      ...(retryReason ? { retryReason } : {}),
    };
    const timeout = setTimeout(() => answer(new Response('', { status: 404 })), this.options.ackTimeoutMs ?? 2900);
    this.app.processEvent(event).then(
      () => {
        if (!acknowledged) answer(new Response('', { status: 404 }));
      },
      (error: Error) => {
        this.options.log?.(`slack: a listener failed: ${error.message}`);
        if (!acknowledged) answer(new Response('', { status: 500 }));
      },
    );
    const response = await answered;
    clearTimeout(timeout);
    return response;
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(raw);
    const payload = form.get('payload');
    return payload !== null ? Payload.parse(JSON.parse(payload)) : Object.fromEntries(form);
  }
  return Payload.parse(JSON.parse(raw));
}

function toResponse(body: unknown): Response {
  if (body === undefined || body === null || body === '') return new Response('', { status: 200 });
  if (typeof body === 'string') return new Response(body, { status: 200 });
  return Response.json(body);
}

/** Sign a request body as Slack does (tests and local tools). */
export function signSlackRequest(signingSecret: string, body: string, timestamp: number): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}
