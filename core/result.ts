import type { AndonError } from './errors.ts';

/** Expected failures of connectors come back as a Result; bugs throw. */
export type Result<T, E = AndonError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });
