import type { Reading, SignalHistoryPort } from '../core/index.ts';
import type { Database } from './db.ts';

export interface DeadLetter {
  source: string;
  topic: string;
  payloadExcerpt: string;
  reason: string;
  receivedAt?: string;
}

/** Plant readings and the dead-letter table for inputs that could not be read. */
export function createReadingStore(database: Database) {
  return {
    /** Store a batch; a repeated (tag, source time) keeps the first value. Returns how many were new. */
    async insert(readings: Reading[]): Promise<number> {
      if (readings.length === 0) return 0;
      const result = await database.query(
        `insert into readings (tag, source_time, value, quality, server_time)
         select * from unnest($1::text[], $2::timestamptz[], $3::float8[], $4::text[], $5::timestamptz[])
         on conflict (tag, source_time) do nothing`,
        [
          readings.map((reading) => reading.tag),
          readings.map((reading) => reading.sourceTime),
          readings.map((reading) => reading.value),
          readings.map((reading) => reading.quality),
          readings.map((reading) => reading.serverTime ?? null),
        ],
      );
      return result.rowCount ?? 0;
    },

    async window(tag: string, from: Date, to: Date, limit = 2000): Promise<Reading[]> {
      const result = await database.query<{
        tag: string;
        source_time: Date;
        value: number;
        quality: Reading['quality'];
      }>(
        `select tag, source_time, value, quality from (
           select * from readings where tag = $1 and source_time between $2 and $3 order by source_time desc limit $4
         ) recent order by source_time`,
        [tag, from, to, limit],
      );
      return result.rows.map((row) => ({
        tag: row.tag,
        value: row.value,
        sourceTime: row.source_time.toISOString(),
        quality: row.quality,
      }));
    },

    async deadLetter(letter: DeadLetter): Promise<void> {
      await database.query(
        'insert into dead_letters (source, topic, payload_excerpt, reason, received_at) values ($1, $2, $3, $4, $5)',
        [
          letter.source,
          letter.topic,
          letter.payloadExcerpt.slice(0, 2000),
          letter.reason,
          letter.receivedAt ?? new Date(),
        ],
      );
    },

    async deadLetters(limit = 100): Promise<Array<DeadLetter & { id: number }>> {
      const result = await database.query<{
        id: string;
        source: string;
        topic: string;
        payload_excerpt: string;
        reason: string;
        received_at: Date;
      }>('select * from dead_letters order by id desc limit $1', [limit]);
      return result.rows.map((row) => ({
        id: Number(row.id),
        source: row.source,
        topic: row.topic,
        payloadExcerpt: row.payload_excerpt,
        reason: row.reason,
        receivedAt: row.received_at.toISOString(),
      }));
    },
  } satisfies SignalHistoryPort & Record<string, unknown>;
}

export type ReadingStore = ReturnType<typeof createReadingStore>;
