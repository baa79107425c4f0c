import type { webApi } from '@slack/bolt';

type WebClient = webApi.WebClient;

/** Slack answered `ok: false` with an error code that retrying will not fix (channel_not_found, invalid_blocks, …). */
export class SlackCallError extends Error {
  constructor(
    readonly method: string,
    readonly slackError: string,
  ) {
    super(`Slack ${method} failed: ${slackError}`);
    this.name = 'SlackCallError';
  }
}

export interface SlackSenderOptions {
  /** Attempts on network errors and 5xx before the call fails (429s are waited out and never count). */
  maxAttempts?: number;
  /** First backoff after a network error or 5xx; doubles up to 30 s. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
  onRateLimited?: (method: string, retryAfterSeconds: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface CodedError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
}

/**
 * Sends Web API calls without losing any to Slack's rate limits. The WebClient is built with
 * `rejectRateLimitedCalls: true` and no retries of its own; here a 429 pauses that method for Retry-After seconds and
 * the call is sent again (as often as needed), network errors and 5xx back off and retry, and calls on one lane (a
 * channel) go out in order.
 */
export function createSlackSender(client: WebClient, options: SlackSenderOptions = {}) {
  const sleep = options.sleep ?? defaultSleep;
  const maxAttempts = options.maxAttempts ?? 6;
  const pausedUntil = new Map<string, number>();
  const lanes = new Map<string, Promise<unknown>>();

  const once = async <T>(method: string, run: () => Promise<unknown>): Promise<T> => {
    let failures = 0;
    for (;;) {
      const wait = (pausedUntil.get(method) ?? 0) - Date.now();
      if (wait > 0) await sleep(wait);
      try {
        return (await run()) as T;
      } catch (error) {
        const coded = error as CodedError;
        if (coded.code === 'slack_webapi_rate_limited_error') {
          const seconds = Math.max(1, coded.retryAfter ?? 1);
          pausedUntil.set(method, Date.now() + seconds * 1000);
          options.onRateLimited?.(method, seconds);
          options.log?.(`slack: ${method} rate limited; retrying in ${seconds}s`);
          continue;
        }
        if (coded.code === 'slack_webapi_platform_error') {
          const slackError = coded.data?.error ?? 'unknown_error';
          if (slackError === 'ratelimited') {
            pausedUntil.set(method, Date.now() + 1000);
            continue;
          }
          throw new SlackCallError(method, slackError);
        }
        const transient =
          coded.code === 'slack_webapi_request_error' ||
          (coded.code === 'slack_webapi_http_error' && (coded.statusCode ?? 500) >= 500);
        failures += 1;
        if (!transient || failures >= maxAttempts) throw error;
        const backoff = Math.min(30_000, (options.backoffMs ?? 500) * 2 ** (failures - 1));
        options.log?.(`slack: ${method} failed (${(error as Error).message}); retry ${failures} in ${backoff}ms`);
        await sleep(backoff);
      }
    }
  };

  return {
    /** Call a Web API method; with a lane, after every earlier call on that lane has finished. */
    call<T = Record<string, unknown>>(method: string, args: Record<string, unknown>, lane?: string): Promise<T> {
      return inLane(lane, () => once<T>(method, () => client.apiCall(method, args)));
    },
    /** files.uploadV2 (three calls: get an upload URL, upload, complete) with the same rate-limit handling. */
    upload(args: Parameters<WebClient['filesUploadV2']>[0], lane?: string) {
      return inLane(lane, () =>
        once<{ files: Array<{ files?: Array<{ id?: string }> }> }>('files.uploadV2', () => client.filesUploadV2(args)),
      );
    },
    client,
  };

  function inLane<T>(lane: string | undefined, work: () => Promise<T>): Promise<T> {
    if (!lane) return work();
    const previous = lanes.get(lane) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    lanes.set(lane, next);
    void next
      .finally(() => {
        if (lanes.get(lane) === next) lanes.delete(lane);
      })
      .catch(() => {});
    return next;
  }
}

export type SlackSender = ReturnType<typeof createSlackSender>;
