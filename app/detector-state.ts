import { z } from 'zod';
import { recordHash } from '../core/index.ts';
import type { BankOptions, BankSnapshot, DetectorBank } from '../detection/index.ts';
import type { Database } from '../store/index.ts';
import { createPartitionLeases, PartitionLeaseLost } from './workers/leases.ts';

/**
 * The detector bank's state across restarts of `andon start`, kept in `detector_snapshots` (0091_scale_out.sql), the
 * same table a scale-out worker hands its partitions over through. A single `andon start` watches the whole plant, so
 * it is partition 0 of 1; the saved record says so, and a reader with another partition count refuses it.
 */
export interface DetectorStateStore {
  /** Which share of the plant the saved state covers: partition `index` of `count` (0 of 1 is the whole plant). */
  readonly partition: { index: number; count: number };
  save(record: DetectorStateRecord, lastSourceTime: string | null): Promise<void>;
  load(): Promise<{ snapshot: unknown; lastSourceTime: string | null } | null>;
}

/** What is saved: the bank snapshot with the fingerprint of the configuration that produced it. */
export type DetectorStateRecord = {
  kind: 'andon.detector-bank';
  version: 1;
  partitions: number;
  fingerprint: string;
  bank: BankSnapshot;
};

const DetectorStateRecord = z.object({
  kind: z.literal('andon.detector-bank'),
  version: z.literal(1),
  partitions: z.number().int().positive(),
  fingerprint: z.string(),
  bank: z.object({ version: z.literal(1), tags: z.record(z.string(), z.unknown()) }).loose(),
});

const WHOLE_PLANT = { index: 0, count: 1 } as const;

/**
 * The store of one `andon start`: the whole plant, or with `partition` one ingest partition of a scale-out worker,
 * whose saves are fenced by the partition lease (a worker that lost the lease cannot overwrite its successor's state).
 */
export function createDetectorStateStore(
  database: Pick<Database, 'query'>,
  worker: string,
  partition: { index: number; count: number } = WHOLE_PLANT,
): DetectorStateStore {
  const leases = createPartitionLeases(database, { worker, ttlMs: 60_000, partitions: partition.count });
  const whole = partition.count === 1;
  return {
    partition,
    save: async (record, lastSourceTime) => {
      if (whole) return leases.saveSnapshot(partition.index, record, lastSourceTime);
      if (!(await leases.saveSnapshotIfHeld(partition.index, record, lastSourceTime)))
        throw new PartitionLeaseLost(worker, partition.index);
    },
    load: () => leases.loadSnapshot(partition.index),
  };
}

/**
 * The fingerprint of a bank configuration: a snapshot taken under another configuration (other models, rules or
 * limits) would carry stale calibration, so it is not restored.
 */
export const bankFingerprint = (options: BankOptions): string => recordHash(options).slice(0, 16);

export const detectorStateRecord = (
  bank: DetectorBank,
  fingerprint: string,
  partitions: number = WHOLE_PLANT.count,
): DetectorStateRecord => ({
  kind: 'andon.detector-bank',
  version: 1,
  partitions,
  fingerprint,
  bank: bank.snapshot(),
});

/**
 * Restore the saved state into `bank` when it is readable and was taken under the same configuration. Returns what
 * happened as one log line; never throws (a bad snapshot means the bank starts calibrating afresh).
 */
export function restoreDetectorState(
  bank: DetectorBank,
  fingerprint: string,
  saved: { snapshot: unknown; lastSourceTime: string | null },
  partition: { index: number; count: number } = WHOLE_PLANT,
): { restored: boolean; message: string } {
  const fresh = 'the detectors calibrate afresh';
  const parsed = DetectorStateRecord.safeParse(saved.snapshot);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      restored: false,
      message: `detector state: the saved snapshot is not readable (${issue?.path.join('.') || 'snapshot'}: ${issue?.message}); ${fresh}`,
    };
  }
  const record = parsed.data;
  if (record.partitions !== partition.count)
    return {
      restored: false,
      message: `detector state: the saved snapshot covers partition ${partition.index} of ${record.partitions}, not ${partition.count === 1 ? 'the whole plant' : `of ${partition.count} (ANDON_PARTITIONS changed)`}; ${fresh}`,
    };
  if (record.fingerprint !== fingerprint)
    return {
      restored: false,
      message: `detector state: the saved snapshot was taken under another detector configuration (${record.fingerprint}, now ${fingerprint}); ${fresh}`,
    };
  const before = bank.snapshot();
  try {
    bank.restore(record.bank as BankSnapshot);
  } catch (error) {
    bank.restore(before); // a snapshot that failed half-way leaves nothing behind
    return {
      restored: false,
      message: `detector state: the saved snapshot could not be restored (${(error as Error).message}); ${fresh}`,
    };
  }
  const tags = Object.keys(record.bank.tags).length;
  return {
    restored: true,
    message: `detector state${partition.count === 1 ? '' : ` of partition ${partition.index}`} restored: ${tags} tag(s), readings up to ${saved.lastSourceTime ?? 'unknown'}`,
  };
}
