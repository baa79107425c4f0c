import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database } from '../../store/index.ts';

export interface LeaseOptions {
  /** This worker's name (ANDON_WORKER_ID); it must be stable across restarts so a worker gets its own leases back. */
  worker: string;
  /** How long a lease lasts without renewal. */
  ttlMs: number;
}

/**
 * One worker at a time per case. `run` takes the case's lease (free, expired, or already ours), runs `work`, renewing
 * the lease while it runs, and releases it; when another live worker holds it, `run` returns `{ ran: false }` at once.
 * The lease is a row with an expiry rather than a held row lock, so a long LLM call keeps no transaction open.
 */
export function createCaseLeases(database: Pick<Database, 'query'>, options: LeaseOptions) {
  const take = async (caseId: string): Promise<boolean> => {
    const { rowCount } = await database.query(
      `insert into case_leases (case_id, worker, expires_at) values ($1, $2, now() + $3 * interval '1 millisecond')
       on conflict (case_id) do update set worker = excluded.worker, expires_at = excluded.expires_at
       where case_leases.expires_at < now() or case_leases.worker = excluded.worker`,
      [caseId, options.worker, options.ttlMs],
    );
    return (rowCount ?? 0) === 1;
  };
  const release = (caseId: string) =>
    database.query('delete from case_leases where case_id = $1 and worker = $2', [caseId, options.worker]);

  /** The cases whose lease the current async context runs under (a run inside a run joins it). */
  const inside = new AsyncLocalStorage<ReadonlySet<string>>();
  /** The last run of each case on this worker: the next one starts after it. */
  const queues = new Map<string, Promise<void>>();

  return {
    /**
     * Run `work` under the case's lease, one run per case at a time on this worker too: a run waits for the one before
     * it, so that what a run reads of the case (its triage thread) cannot change until it is done. A run inside a run of
     * the same case (the sweep recovering a case through the leased triage) joins it.
     */
    async run<T>(
      caseId: string,
      work: () => Promise<T>,
    ): Promise<{ ran: true; value: T } | { ran: false; holder: string }> {
      const within = inside.getStore();
      if (within?.has(caseId)) return { ran: true, value: await work() };
      const previous = queues.get(caseId) ?? Promise.resolve();
      let done = () => {};
      const finished = new Promise<void>((resolve) => (done = resolve));
      const mine = previous.then(() => finished);
      queues.set(caseId, mine);
      await previous;
      try {
        if (!(await take(caseId))) {
          const { rows } = await database.query<{ worker: string }>(
            'select worker from case_leases where case_id = $1',
            [caseId],
          );
          return { ran: false, holder: rows[0]?.worker ?? 'unknown' };
        }
        const renew = setInterval(() => void take(caseId).catch(() => {}), Math.max(50, options.ttlMs / 3));
        renew.unref();
        try {
          return { ran: true, value: await inside.run(new Set([...(within ?? []), caseId]), work) };
        } finally {
          clearInterval(renew);
          await release(caseId).catch(() => {});
        }
      } finally {
        done();
        if (queues.get(caseId) === mine) queues.delete(caseId);
      }
    },
    /** Whether this worker runs (or has queued) work on the case right now. */
    busy: (caseId: string): boolean => queues.has(caseId),
    /**
     * Cases that need a worker (status in `statuses`) and that no live worker holds, oldest first. A case
     * `awaiting_approval` needs one only when a decision that completes its approval was signed on its current draft and
     * has not reached the gate (the gate moves the case on, or a rejection makes a new draft): one waiting for a person
     * is left alone. SKIP LOCKED lets several workers sweep at once without waiting on each other or picking the same
     * case.
     */
    async claimable(statuses: readonly string[], limit: number): Promise<string[]> {
      const { rows } = await database.query<{ id: string }>(
        `select c.id from cases c
          where c.status = any($1::text[])
            and (c.status <> 'awaiting_approval' or exists (
                  select 1 from approvals a
                   where a.case_id = c.id and a.meaning <> 'reviewed'
                     and a.draft_version = (select max(d.version) from drafts d where d.case_id = c.id)))
            and not exists (select 1 from case_leases l where l.case_id = c.id and l.expires_at >= now() and l.worker <> $2)
          order by c.created_at
          limit $3
          for update of c skip locked`,
        [statuses, options.worker, limit],
      );
      return rows.map((row) => row.id);
    },
  };
}

export type CaseLeases = ReturnType<typeof createCaseLeases>;

/** A partition's lease went to another worker, or expired: its state must not be saved, its samples not acknowledged. */
export class PartitionLeaseLost extends Error {
  constructor(
    readonly worker: string,
    readonly partition: number,
  ) {
    super(`worker ${worker} no longer holds the lease of partition ${partition}; its detector state was not saved`);
    this.name = 'PartitionLeaseLost';
  }
}

/** FNV-1a of the tag, modulo the partition count: the same tag always lands in the same partition. */
export function partitionOf(tag: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < tag.length; index++) {
    hash ^= tag.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

/**
 * The partition of a tag: its line (`<area>.<line>`, the first two parts of the tag name) hashed with `partitionOf`, so
 * that the tags of one line share a worker and their alarms still group into one case. A tag with fewer parts hashes
 * whole.
 *
 * @example partitionOfTag('packaging.line1.seal_temperature', 8) === partitionOf('packaging.line1', 8)
 */
export function partitionOfTag(tag: string, partitions: number): number {
  const first = tag.indexOf('.');
  const second = first < 0 ? -1 : tag.indexOf('.', first + 1);
  return partitionOf(second < 0 ? tag : tag.slice(0, second), partitions);
}

/**
 * The MQTT 5 shared subscription of one partition: `$share/<group>/<prefix>/partition/<n>/#`. Edge gateways (or a
 * broker rule) publish each tag under its partition, so whichever worker holds a partition gets all of its tags.
 */
export const partitionFilter = (group: string, prefix: string, partition: number): string =>
  `$share/${group}/${prefix}/partition/${partition}/#`;

/**
 * Partition leases: each worker holds a fair share (`ceil(partitions / live workers)`), takes expired partitions of
 * workers that died, and renews its own. The detector state of a partition moves with it through `detector_snapshots`.
 */
export function createPartitionLeases(
  database: Pick<Database, 'query'>,
  options: LeaseOptions & { partitions: number },
) {
  /** Heartbeat and extend our leases: cheap, so a worker runs it on its own timer, never behind slow work. */
  const renew = async () => {
    await database.query(
      `insert into workers (worker, seen_at) values ($1, now()) on conflict (worker) do update set seen_at = now()`,
      [options.worker],
    );
    await database.query(
      `update partition_leases set expires_at = now() + $2 * interval '1 millisecond' where worker = $1`,
      [options.worker, options.ttlMs],
    );
  };
  return {
    renew,
    /**
     * Renew ours, then take free or expired partitions up to a fair share. Returns the partitions we hold.
     * `beforeRelease` runs for each partition over our fair share before its lease is given back, so the worker can
     * stop reading it and save its detector state first (the next holder restores exactly that state).
     */
    async balance(beforeRelease?: (partition: number) => Promise<void>): Promise<number[]> {
      const ttl = options.ttlMs;
      await renew();
      const { rows: live } = await database.query<{ n: string }>(
        `select count(*) as n from workers where seen_at >= now() - $1 * interval '1 millisecond'`,
        [ttl],
      );
      const fair = Math.ceil(options.partitions / Math.max(1, Number(live[0]?.n ?? 1)));
      const held = async () =>
        (
          await database.query<{ partition: number }>(
            'select partition from partition_leases where worker = $1 order by partition',
            [options.worker],
          )
        ).rows.map((row) => Number(row.partition));
      let mine = await held();
      // more than a fair share (a worker joined): give the highest partitions back, the newcomer takes them
      for (const partition of mine.slice(fair)) {
        await beforeRelease?.(partition);
        await database.query('delete from partition_leases where partition = $1 and worker = $2', [
          partition,
          options.worker,
        ]);
      }
      mine = mine.slice(0, fair);
      for (let partition = 0; partition < options.partitions && mine.length < fair; partition++) {
        if (mine.includes(partition)) continue;
        const { rowCount } = await database.query(
          `insert into partition_leases (partition, worker, expires_at) values ($1, $2, now() + $3 * interval '1 millisecond')
           on conflict (partition) do update set worker = excluded.worker, expires_at = excluded.expires_at
           where partition_leases.expires_at < now()`,
          [partition, options.worker, ttl],
        );
        if ((rowCount ?? 0) === 1) mine.push(partition);
      }
      return mine.sort((a, b) => a - b);
    },
    /** Give a partition up (a clean shutdown), so the next worker need not wait for the expiry. */
    async release(partition: number): Promise<void> {
      await database.query('delete from partition_leases where partition = $1 and worker = $2', [
        partition,
        options.worker,
      ]);
    },
    async saveSnapshot(partition: number, snapshot: unknown, lastSourceTime: string | null): Promise<void> {
      await database.query(
        `insert into detector_snapshots (partition, worker, snapshot, last_source_time, taken_at)
         values ($1, $2, $3, $4, now())
         on conflict (partition) do update set worker = excluded.worker, snapshot = excluded.snapshot,
           last_source_time = excluded.last_source_time, taken_at = excluded.taken_at`,
        [partition, options.worker, JSON.stringify(snapshot), lastSourceTime],
      );
    },
    /**
     * Save the snapshot only while this worker holds the partition's lease (fencing: a worker that lost its lease
     * during a long pause cannot overwrite the state its successor restored). Returns false when it no longer holds it.
     */
    async saveSnapshotIfHeld(partition: number, snapshot: unknown, lastSourceTime: string | null): Promise<boolean> {
      const { rowCount } = await database.query(
        `insert into detector_snapshots (partition, worker, snapshot, last_source_time, taken_at)
         select $1, $2, $3, $4, now()
          where exists (select 1 from partition_leases where partition = $1 and worker = $2 and expires_at >= now())
         on conflict (partition) do update set worker = excluded.worker, snapshot = excluded.snapshot,
           last_source_time = excluded.last_source_time, taken_at = excluded.taken_at`,
        [partition, options.worker, JSON.stringify(snapshot), lastSourceTime],
      );
      return (rowCount ?? 0) === 1;
    },
    async loadSnapshot(partition: number): Promise<{ snapshot: unknown; lastSourceTime: string | null } | null> {
      const { rows } = await database.query<{ snapshot: unknown; last_source_time: Date | null }>(
        'select snapshot, last_source_time from detector_snapshots where partition = $1',
        [partition],
      );
      const row = rows[0];
      return row ? { snapshot: row.snapshot, lastSourceTime: row.last_source_time?.toISOString() ?? null } : null;
    },
  };
}
