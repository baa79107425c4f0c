/** Every expected failure andon reports. Closed on purpose: a new code is a deliberate change. */
export type ErrorCode =
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid_payload'
  | 'invalid_config'
  | 'unavailable'
  | 'timeout'
  | 'rate_limited'
  | 'internal';

const httpStatus: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid_payload: 422,
  invalid_config: 500,
  unavailable: 503,
  timeout: 504,
  rate_limited: 429,
  internal: 500,
};

/** One error type for the whole system. The message tells a person what happened and what to do. */
export class AndonError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AndonError';
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
  get status(): number {
    return httpStatus[this.code];
  }
}

export const isAndonError = (value: unknown): value is AndonError => value instanceof AndonError;
