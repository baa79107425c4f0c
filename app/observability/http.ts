import { createHash, timingSafeEqual } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import type { Metrics } from './metrics.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

const sameSecret = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(expected).digest());

export interface MetricsAppOptions {
  metrics: Pick<Metrics, 'render'>;
  /** METRICS_TOKEN: scrapers that are not on this host send `Authorization: Bearer <token>`. */
  token?: string | undefined;
  log?: (line: string) => void;
}

/**
 * `GET /metrics` in the Prometheus text format. Without a token only loopback clients that came through no proxy
 * (no X-Forwarded-For) may scrape; with METRICS_TOKEN set, any client with that bearer token may.
 */
export function createMetricsApp(options: MetricsAppOptions) {
  const app = new Hono();
  app.get('/', async (c) => {
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1];
    let allowed = false;
    if (options.token && bearer) allowed = sameSecret(bearer, options.token);
    else if (!bearer) {
      let remote = '';
      try {
        remote = getConnInfo(c).remote.address ?? '';
      } catch {
        remote = '';
      }
      allowed = LOOPBACK.test(remote) && c.req.header('x-forwarded-for') === undefined;
    }
    if (!allowed) {
      return c.json(
        {
          error: {
            code: bearer ? 'forbidden' : 'unauthenticated',
            message: bearer
              ? 'The bearer token does not match METRICS_TOKEN.'
              : 'Metrics are served without a token only to loopback clients; send Authorization: Bearer <METRICS_TOKEN>.',
            requestId: c.res.headers.get('x-request-id') ?? '',
          },
        },
        bearer ? 403 : 401,
      );
    }
    try {
      const { contentType, body } = await options.metrics.render();
      return c.body(body, 200, { 'content-type': contentType });
    } catch (error) {
      options.log?.(`metrics: collecting failed: ${(error as Error).message}`);
      return c.json(
        {
          error: {
            code: 'unavailable',
            message: `Collecting metrics failed: ${(error as Error).message}`,
            requestId: '',
          },
        },
        503,
      );
    }
  });
  return app;
}
