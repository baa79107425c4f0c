import { Hono } from 'hono';
import { z } from 'zod';
import { ActionParams, ActionType } from '../../core/index.ts';
import { noFaults, SandboxFaults } from './faults.ts';

interface Effect {
  id: string;
  idempotencyKey: string;
  kind: string;
  body: Record<string, unknown>;
  createdAt: string;
}

/** Where the sandbox keeps its effects (andon's own tables in the embedded default). */
export interface SandboxEffectsPort {
  record(
    idempotencyKey: string,
    kind: string,
    body: Record<string, unknown>,
  ): Promise<{ effect: { id: string; createdAt: string }; created: boolean; conflict?: boolean }>;
  list(limit?: number): Promise<Effect[]>;
  get?(id: string): Promise<Effect | null>;
  forLot?(lot: string): Promise<Effect[]>;
}

export interface SandboxErpOptions {
  effects: SandboxEffectsPort;
  apiKey: string;
  /** Faults to inject; the object is live, so a test or `PUT /api/v1/faults` can change it while running. */
  faults?: SandboxFaults;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called at each step of a request (the crash test uses it to know where a kill landed). */
  onEvent?: (event: 'received' | 'recorded' | 'answered', detail: { idempotencyKey: string; kind: string }) => void;
}

const IdempotencyKey = z.string().min(8).max(200);

const error = (code: string, message: string) => ({ error: { code, message } });

/**
 * The sandbox ERP/QMS: a REST endpoint of andon's own that stands in for a customer's ERP in the embedded default.
 * It honours Idempotency-Key (one effect per key, the same answer on a repeat, 409 for a repeat with another body),
 * needs its API key, and injects faults on request: latency, 503, 429 with Retry-After, malformed answers.
 *
 * @example POST /sandbox/erp/api/v1/actions/lot_hold  Idempotency-Key: k  {"lot":"L-1","reason":"..."}  → 201 {"id":...}
 */
export function createSandboxErpApp(options: SandboxErpOptions) {
  const app = new Hono();
  const faults = options.faults ?? noFaults();
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const between = ([low, high]: [number, number]) => low + Math.floor(random() * (Math.max(high, low) - low + 1));

  app.use('/api/*', async (c, next) => {
    if (c.req.header('authorization') !== `Bearer ${options.apiKey}`) {
      return c.json(error('unauthenticated', 'The sandbox ERP needs its API key as a bearer token.'), 401);
    }
    return next();
  });

  app.post('/api/v1/actions/:type', async (c) => {
    const type = ActionType.safeParse(c.req.param('type'));
    if (!type.success) return c.json(error('not_found', `Unknown action type ${c.req.param('type')}.`), 404);
    const key = IdempotencyKey.safeParse(c.req.header('idempotency-key'));
    if (!key.success) {
      return c.json(error('bad_request', 'An Idempotency-Key header of 8 to 200 characters is required.'), 400);
    }
    const body = ActionParams[type.data].safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      return c.json(error('invalid_payload', `The ${type.data} body is invalid: ${z.prettifyError(body.error)}`), 422);
    }
    const event = { idempotencyKey: key.data, kind: type.data };
    options.onEvent?.('received', event);
    if (faults.failNext > 0) {
      faults.failNext -= 1;
      return c.json(error('unavailable', 'Injected fault: the sandbox ERP is unavailable.'), 503);
    }
    if (faults.rateLimitRate > 0 && random() < faults.rateLimitRate) {
      c.header('retry-after', String(faults.retryAfterSeconds));
      return c.json(error('rate_limited', 'Injected fault: too many requests.'), 429);
    }
    if (faults.unavailableRate > 0 && random() < faults.unavailableRate) {
      return c.json(error('unavailable', 'Injected fault: the sandbox ERP is unavailable.'), 503);
    }
    const latency = between(faults.latencyMs);
    if (latency > 0) await sleep(latency);
    const { effect, created, conflict } = await options.effects.record(
      key.data,
      type.data,
      body.data as Record<string, unknown>,
    );
    options.onEvent?.('recorded', event);
    if (conflict) {
      return c.json(
        error(
          'conflict',
          `Idempotency-Key ${key.data} was used for a different request (effect ${effect.id}); a changed request needs a new key.`,
        ),
        409,
      );
    }
    const delay = between(faults.responseDelayMs);
    if (delay > 0) await sleep(delay);
    options.onEvent?.('answered', event);
    if (faults.malformedRate > 0 && random() < faults.malformedRate) {
      return c.body('<html>gateway hiccup: the answer was mangled</html>', 200, { 'content-type': 'text/html' });
    }
    return c.json(
      { id: effect.id, status: 'done', createdAt: effect.createdAt, replayed: !created },
      created ? 201 : 200,
    );
  });

  app.get('/api/v1/effects', async (c) => c.json({ effects: await options.effects.list(200) }));
  app.get('/api/v1/effects/:id', async (c) => {
    const effect = await options.effects.get?.(c.req.param('id'));
    return effect ? c.json(effect) : c.json(error('not_found', `No effect ${c.req.param('id')}.`), 404);
  });

  /** A lot's state in the sandbox: held after a hold, released after a release. */
  app.get('/api/v1/lots/:lot', async (c) => {
    const history = (await options.effects.forLot?.(c.req.param('lot'))) ?? [];
    let status = 'unrestricted';
    for (const effect of history) {
      if (effect.kind === 'lot_hold') status = 'blocked';
      if (effect.kind === 'lot_release') status = 'unrestricted';
    }
    return c.json({ lot: c.req.param('lot'), status, history });
  });

  app.get('/api/v1/faults', (c) => c.json(faults));
  app.put('/api/v1/faults', async (c) => {
    const parsed = SandboxFaults.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) {
      return c.json(error('bad_request', `Invalid faults: ${z.prettifyError(parsed.error)}`), 400);
    }
    Object.assign(faults, parsed.data);
    return c.json(faults);
  });
  return app;
}
