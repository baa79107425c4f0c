import { Hono } from 'hono';
import { z } from 'zod';
import { ActionParams, ActionType } from '../../core/index.ts';

/** Where the sandbox keeps its effects (andon's own tables in the embedded default). */
export interface SandboxEffectsPort {
  record(
    idempotencyKey: string,
    kind: string,
    body: Record<string, unknown>,
  ): Promise<{ effect: { id: string; createdAt: string }; created: boolean }>;
  list(
    limit?: number,
  ): Promise<
    Array<{ id: string; idempotencyKey: string; kind: string; body: Record<string, unknown>; createdAt: string }>
  >;
}

const IdempotencyKey = z.string().min(8).max(200);

/**
 * The sandbox ERP/QMS: a REST endpoint of andon's own that stands in for a customer's ERP in the embedded default.
 * It honours Idempotency-Key (one effect per key, the same answer on a repeat) and needs its API key.
 *
 * @example POST /sandbox/erp/api/v1/actions/lot_hold  Idempotency-Key: k  {"lot":"L-1","reason":"..."}  → 201 {"id":...}
 */
export function createSandboxErpApp(options: { effects: SandboxEffectsPort; apiKey: string }) {
  const app = new Hono();
  app.use('/api/*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${options.apiKey}`) {
      return c.json(
        { error: { code: 'unauthenticated', message: 'The sandbox ERP needs its API key as a bearer token.' } },
        401,
      );
    }
    return next();
  });
  app.post('/api/v1/actions/:type', async (c) => {
    const type = ActionType.safeParse(c.req.param('type'));
    if (!type.success)
      return c.json({ error: { code: 'not_found', message: `Unknown action type ${c.req.param('type')}.` } }, 404);
    const key = IdempotencyKey.safeParse(c.req.header('idempotency-key'));
    if (!key.success) {
      return c.json(
        { error: { code: 'bad_request', message: 'An Idempotency-Key header of 8 to 200 characters is required.' } },
        400,
      );
    }
    const body = ActionParams[type.data].safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      return c.json(
        {
          error: {
            code: 'invalid_payload',
            message: `The ${type.data} body is invalid: ${z.prettifyError(body.error)}`,
          },
        },
        422,
      );
    }
    const { effect, created } = await options.effects.record(key.data, type.data, body.data as Record<string, unknown>);
    return c.json(
      { id: effect.id, status: 'done', createdAt: effect.createdAt, replayed: !created },
      created ? 201 : 200,
    );
  });
  app.get('/api/v1/effects', async (c) => c.json({ effects: await options.effects.list(200) }));
  return app;
}
