import type { PGlite } from '@electric-sql/pglite';
import type { PGLiteSocketServer } from '@electric-sql/pglite-socket';

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(error: unknown): void;
  onData(data: Uint8Array): void;
}

interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Frontend messages that end a protocol exchange: Sync, simple Query, Terminate. */
const GROUP_END = new Set(['S'.charCodeAt(0), 'Q'.charCodeAt(0), 'X'.charCodeAt(0)]);

/**
 * PGlite is one backend session. pglite-socket 0.2.17 interleaves the protocol messages of different connections one
 * message at a time, so one client's Parse can meet another's Bind ("bind message supplies 1 parameters, but prepared
 * statement requires 3"). This keeps each connection's messages together up to its Sync or Query (and, as before,
 * for the whole of an open transaction), which is what a real server guarantees per session.
 */
export function keepProtocolExchangesTogether(server: PGLiteSocketServer): void {
  const queue = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  let midExchange = false;
  queue.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        let next: QueuedMessage | undefined;
        if ((midExchange || this.db.isInTransaction()) && this.lastHandlerId !== null) {
          const index = this.queue.findIndex((item) => item.handlerId === this.lastHandlerId);
          if (index === -1) break;
          next = this.queue.splice(index, 1)[0];
        } else {
          next = this.queue.shift();
        }
        if (!next) break;
        const item = next;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                item.onData(data);
              },
            }),
          );
        } catch (error) {
          midExchange = false;
          item.reject(error);
          continue;
        }
        const type = item.message[0];
        // A startup message has no type byte; it starts with its length (first byte 0).
        midExchange = type !== undefined && type !== 0 && !GROUP_END.has(type);
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (queue.lastHandlerId === handlerId) {
      midExchange = false;
      void queue.processQueue();
    }
  };
}
