/**
 * The evidence window of a tag: its last good readings in a typed ring buffer (times and values, oldest at `start`), so
 * that a reading costs no object; `evidencePoints` lists it as a Deviation's `window`.
 */
import type { EvidencePoint } from '../core/index.ts';

/** The evidence window: the last good readings of a tag in a ring, oldest at `start`, without an object per reading. */
export type Evidence = { times: string[]; values: Float64Array; start: number; size: number };

export function createEvidence(capacity: number, points: readonly EvidencePoint[] = []): Evidence {
  // a restored window longer than the bank's keeps its length, as the array it replaces did
  const size = Math.max(capacity, points.length);
  const evidence: Evidence = {
    times: new Array<string>(size).fill(''),
    values: new Float64Array(size),
    start: 0,
    size: 0,
  };
  for (const point of points) pushEvidence(evidence, point.t, point.value);
  return evidence;
}

export function pushEvidence(evidence: Evidence, t: string, value: number): void {
  const capacity = evidence.values.length;
  let index = evidence.start + evidence.size;
  if (index >= capacity) index -= capacity;
  evidence.times[index] = t;
  evidence.values[index] = value;
  if (evidence.size < capacity) evidence.size++;
  else evidence.start = evidence.start + 1 === capacity ? 0 : evidence.start + 1;
}

export function evidencePoints(evidence: Evidence): EvidencePoint[] {
  const capacity = evidence.values.length;
  const points: EvidencePoint[] = new Array(evidence.size);
  for (let i = 0; i < evidence.size; i++) {
    let index = evidence.start + i;
    if (index >= capacity) index -= capacity;
    points[i] = { t: evidence.times[index]!, value: evidence.values[index]! };
  }
  return points;
}
