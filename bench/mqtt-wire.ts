/**
 * A lean MQTT 3.1.1 publisher for the ingest benchmark's load generator: it writes PUBLISH packets (QoS 1) straight to
 * the socket, many per write, and only counts the broker's PUBACKs. MQTT.js spends about 10 µs of CPU per QoS 1 publish
 * (store, callbacks, one write each); on a two-core machine that publisher competes with the broker and the subscriber
 * under test, and the benchmark then measures the load generator. A plant's many edge devices are not one Node process
 * either. The subscribers under test (the bare MQTT.js client and andon's ingest) are untouched.
 *
 * Protocol: CONNECT (clean session, no keep-alive), PUBLISH QoS 1 with packet ids 1…65535 (never more than 60,000
 * unacknowledged), PUBACK counted. Anything else from the broker, or a refused CONNACK, is an error.
 */
import { connect as connectTcp, type Socket } from 'node:net';

const PUBLISH_QOS1 = 0x32;
const MAX_UNACKED = 60_000;

const encodeLength = (length: number): number[] => {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
};

/** The bytes of one PUBLISH packet (QoS 1) with the given packet id. */
export function encodePublish(topic: string, payload: Buffer | string, packetId: number): Buffer {
  const topicLength = Buffer.byteLength(topic);
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const remaining = 2 + topicLength + 2 + body.length;
  const header = encodeLength(remaining);
  const packet = Buffer.allocUnsafe(1 + header.length + remaining);
  let at = 0;
  packet[at++] = PUBLISH_QOS1;
  for (const byte of header) packet[at++] = byte;
  packet.writeUInt16BE(topicLength, at);
  at += 2;
  at += packet.write(topic, at, 'utf8');
  packet.writeUInt16BE(packetId, at);
  at += 2;
  body.copy(packet, at);
  return packet;
}

const encodeConnect = (clientId: string): Buffer => {
  const id = Buffer.from(clientId);
  // protocol name "MQTT", level 4, flags: clean session, keep-alive 0 (off)
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00]);
  const remaining = variable.length + 2 + id.length;
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(id.length);
  return Buffer.concat([Buffer.from([0x10, ...encodeLength(remaining)]), variable, idLength, id]);
};

export interface WirePublisher {
  /** Queue one QoS 1 message; it leaves with the next flush(). Waits only when 60,000 are unacknowledged. */
  publish(topic: string, payload: Buffer | string): Promise<void> | undefined;
  /** Write everything queued in one socket write. */
  flush(): void;
  /** Messages the broker acknowledged so far. */
  acknowledged(): number;
  /** Resolves once every message published so far is acknowledged. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export async function connectWirePublisher(url: string, clientId: string): Promise<WirePublisher> {
  const address = new URL(url);
  if (address.protocol !== 'mqtt:' && address.protocol !== 'tcp:') {
    throw new Error(`the benchmark publisher speaks plain MQTT over TCP (mqtt://host:port), not ${address.protocol}`);
  }
  const socket: Socket = connectTcp({ host: address.hostname, port: Number(address.port || 1883) });
  socket.setNoDelay(true);
  let pending: Buffer[] = [];
  let published = 0;
  let acked = 0;
  let nextId = 1;
  let failure: Error | undefined;
  let waiters: (() => void)[] = [];
  let connected: ((error?: Error) => void) | undefined;
  let buffered: Buffer = Buffer.alloc(0);
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const fail = (error: Error) => {
    failure ??= error;
    connected?.(error);
    wake();
  };
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the broker closed the benchmark publisher connection')));
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let at = 0;
    while (at < buffered.length) {
      const type = buffered[at]! >> 4;
      let length = 0;
      let multiplier = 1;
      let cursor = at + 1;
      let complete = false;
      while (cursor < buffered.length) {
        const byte = buffered[cursor++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > buffered.length) break;
      if (type === 4) acked++;
      else if (type === 2) {
        const code = buffered[cursor + 1];
        connected?.(code === 0 ? undefined : new Error(`the broker refused the benchmark publisher (CONNACK ${code})`));
        connected = undefined;
      } else fail(new Error(`unexpected MQTT packet type ${type} from the broker`));
      at = cursor + length;
    }
    buffered = buffered.subarray(at);
    if (waiters.length > 0) wake();
  });
  await new Promise<void>((resolve, reject) => {
    connected = (error) => (error === undefined ? resolve() : reject(error));
    socket.once('connect', () => socket.write(encodeConnect(clientId)));
  });

  const flush = () => {
    if (pending.length === 0) return;
    const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    pending = [];
    socket.write(chunk);
  };
  const waitFor = async (done: () => boolean) => {
    while (!done()) {
      if (failure !== undefined) throw failure;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    if (failure !== undefined) throw failure;
  };
  return {
    publish(topic, payload) {
      if (failure !== undefined) throw failure;
      pending.push(encodePublish(topic, payload, nextId));
      nextId = nextId === 65_535 ? 1 : nextId + 1;
      published++;
      if (published - acked < MAX_UNACKED) return undefined;
      flush();
      return waitFor(() => published - acked < MAX_UNACKED);
    },
    flush,
    acknowledged: () => acked,
    async drained() {
      flush();
      const target = published;
      await waitFor(() => acked >= target);
    },
    async close() {
      flush();
      // DISCONNECT, then wait for the socket to close.
      await new Promise<void>((resolve) => socket.end(Buffer.from([0xe0, 0x00]), () => resolve()));
      socket.destroy();
    },
  };
}
