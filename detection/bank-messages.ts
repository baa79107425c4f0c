/** How the bank's Deviations read: severity by distance in sigmas, numbers and units in messages. */
import type { Reading, Severity } from '../core/index.ts';

/** Severity of a reading `sigmas` from the center: low under 3, medium from 3, high from 4.5, critical from 6. */
export function severityFor(sigmas: number): Severity {
  const distance = Math.abs(sigmas);
  if (distance >= 6) return 'critical';
  if (distance >= 4.5) return 'high';
  if (distance >= 3) return 'medium';
  return 'low';
}

/** A number as a message shows it: integers whole, others to 4 significant digits. */
export const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

/** The unit of a reading as it follows a number in a message. */
export const unitOf = (reading: Reading): string => (reading.unit ? ` ${reading.unit}` : '');
