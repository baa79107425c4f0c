import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ZodError, z } from 'zod';
import { AndonError, isAndonError } from '../core/index.ts';

export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

/** Map any error to `{ error: { code, message, requestId } }` with the right status. Bugs are logged, not shown. */
export function errorResponse(error: unknown, c: Context, log: (line: string) => void = console.error) {
  const requestId = (c.get('requestId' as never) as string | undefined) ?? randomUUID();
  let failure: AndonError;
  if (isAndonError(error)) failure = error;
  else if (error instanceof ZodError)
    failure = new AndonError('bad_request', `Invalid request: ${z.prettifyError(error)}`);
  else if (error instanceof SyntaxError) {
    // c.req.json() on a body that is not JSON: the client's mistake, never a server fault.
    failure = new AndonError(
      'bad_request',
      `The request body is not valid JSON (${error.message}); send a JSON object.`,
    );
  } else if (error instanceof HTTPException) {
    failure = new AndonError(error.status === 404 ? 'not_found' : 'bad_request', error.message || 'Bad request.');
  } else {
    log(`[${requestId}] ${(error as Error)?.stack ?? String(error)}`);
    failure = new AndonError(
      'internal',
      `Something went wrong on the server; quote request id ${requestId} when reporting it.`,
    );
  }
  const body: ErrorBody = { error: { code: failure.code, message: failure.message, requestId } };
  return c.json(body, failure.status as 400);
}
