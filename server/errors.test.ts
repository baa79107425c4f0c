import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { AndonError } from '../core/index.ts';
import { errorResponse } from './errors.ts';

function appThrowing(thrown: () => unknown) {
  const logged: string[] = [];
  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c, (line) => logged.push(line)));
  app.post('/x', async (c) => {
    const value = thrown();
    return c.json(value ?? (await c.req.json()));
  });
  return { app, logged };
}

describe('errorResponse', () => {
  it('answers a body that is not JSON with 400 bad_request, not a logged 500', async () => {
    const { app, logged } = appThrowing(() => undefined);
    const response = await app.request('/x', {
      method: 'POST',
      body: '{"broken',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_request');
    expect(body.error.message).toMatch(/not valid JSON/);
    expect(logged).toEqual([]);
  });

  it('keeps an AndonError as it is and hides a bug behind a request id', async () => {
    const known = appThrowing(() => {
      throw new AndonError('not_found', 'Case C-1 does not exist.');
    });
    expect((await known.app.request('/x', { method: 'POST' })).status).toBe(404);
    const bug = appThrowing(() => {
      throw new TypeError('x is undefined');
    });
    const response = await bug.app.request('/x', { method: 'POST' });
    expect(response.status).toBe(500);
    expect(JSON.stringify(await response.json())).not.toMatch(/x is undefined/);
    expect(bug.logged[0]).toMatch(/TypeError: x is undefined/);
  });
});
