import { z } from 'zod';
import { recordHash } from '../core/index.ts';
import type { BankOptions, BankSnapshot, DetectorBank } from '../detection/index.ts';
import type { Database } from '../store/index.ts';
import { createPartitionLeases } from './workers/leases.ts';

/**
 * The detector bank's state across restarts of `andon start`, kept in `detector_snapshots` (0091_scale_out.sql), the
 * same table a scale-out worker hands its partitions over through. A single `andon start` watches the whole plant, so
 * it is partition 0 of 1; the saved record says so, and a reader with another partition count refuses it.
 */
export interface DetectorStateStore {
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

const WHOLE_PLANT = { partition: 0, partitions: 1 } as const;

export function createDetectorStateStore(database: Pick<Database, 'query'>, worker: string): DetectorStateStore {
  const leases = createPartitionLeases(database, { worker, ttlMs: 60_000, partitions: WHOLE_PLANT.partitions });
  return {
    save: (record, lastSourceTime) => leases.saveSnapshot(WHOLE_PLANT.partition, record, lastSourceTime),
    load: () => leases.loadSnapshot(WHOLE_PLANT.partition),
  };
}

/**
 * The fingerprint of a bank configuration: a snapshot taken under another configuration (other models, rules or
 * limits) would carry stale calibration, so it is not restored.
 */
export const bankFingerprint = (options: BankOptions): string => recordHash(options).slice(0, 16);

export const detectorStateRecord = (bank: DetectorBank, fingerprint: string): DetectorStateRecord => ({
  kind: 'andon.detector-bank',
  version: 1,
  partitions: WHOLE_PLANT.partitions,
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
  if (record.partitions !== WHOLE_PLANT.partitions)
    return {
      restored: false,
      message: `detector state: the saved snapshot covers partition ${WHOLE_PLANT.partition} of ${record.partitions}, not the whole plant; ${fresh}`,
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
    message: `detector state restored: ${tags} tag(s), readings up to ${saved.lastSourceTime ?? 'unknown'}`,
  };
}
