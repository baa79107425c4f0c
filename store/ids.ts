import { randomBytes } from 'node:crypto';

/** A short, readable, unique id such as `CASE-20261125-7f3a9c`. */
export const newId = (prefix: string, at: Date = new Date()): string =>
  `${prefix}-${at.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
