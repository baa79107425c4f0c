import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from '../connectors/mqtt/index.ts';
import { connectWirePublisher, encodePublish } from './mqtt-wire.ts';

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});

describe('the benchmark wire publisher', () => {
  it('encodes a QoS 1 PUBLISH with a two-byte remaining length past 127 bytes', () => {
    const packet = encodePublish('a/b', 'x'.repeat(200), 513);
    expect(packet[0]).toBe(0x32);
    // remaining length 2 + 3 + 2 + 200 = 207 = 0xcf 0x01
    expect([packet[1], packet[2]]).toEqual([0xcf, 0x01]);
    expect(packet.readUInt16BE(3)).toBe(3);
    expect(packet.toString('utf8', 5, 8)).toBe('a/b');
    expect(packet.readUInt16BE(8)).toBe(513);
    expect(packet.length).toBe(1 + 2 + 207);
  });

  it('delivers every message, in order, to an MQTT.js subscriber, and counts every PUBACK', async () => {
    const subscriber = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clean: true });
    const received: string[] = [];
    subscriber.on('message', (_topic, payload) => received.push(payload.toString()));
    await subscriber.subscribeAsync('wire/#', { qos: 1 });
    const publisher = await connectWirePublisher(broker.url, 'wire-test');
    const total = 2_500;
    for (let index = 0; index < total; index++) {
      await publisher.publish(`wire/t${index % 7}`, index % 2 === 0 ? `{"n":${index}}` : Buffer.from(`{"n":${index}}`));
      if (index % 100 === 99) publisher.flush();
    }
    await publisher.drained();
    expect(publisher.acknowledged()).toBe(total);
    await publisher.close();
    for (let wait = 0; received.length < total && wait < 600; wait++) await new Promise((r) => setTimeout(r, 50));
    await subscriber.endAsync();
    expect(received).toEqual(Array.from({ length: total }, (_, index) => `{"n":${index}}`));
  });

  it('refuses a URL it cannot speak to with a clear error', async () => {
    await expect(connectWirePublisher('ws://127.0.0.1:1/mqtt', 'x')).rejects.toThrow(/plain MQTT over TCP/);
  });
});
