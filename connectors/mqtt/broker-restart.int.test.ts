import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startMqttIngest } from './ingest.ts';

/**
 * Restarts a broker mid-stream and counts what reaches the detectors. The machine's shared mosquitto must not be
 * restarted, so this starts its own mosquitto (persistence on) on a free port, and skips when there is no binary.
 */
const binary = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v mosquitto || ls /usr/sbin/mosquitto'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
})();
if (binary === '')
  console.warn('connectors/mqtt/broker-restart.int.test.ts skipped: no mosquitto binary on PATH or in /usr/sbin');

const directory = mkdtempSync(join(tmpdir(), 'andon-mosquitto-'));
// mosquitto started as root drops to the mosquitto user, which must be able to write its persistence file here.
chmodSync(directory, 0o777);
let broker: ChildProcess | undefined;
afterAll(() => {
  broker?.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address !== null ? address.port : 0;
};

const startBroker = async (port: number) => {
  const child = spawn(binary, ['-c', join(directory, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
      await probe.endAsync();
      return child;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('mosquitto did not start');
};

describe.skipIf(binary === '')('QoS 1 across a broker restart', () => {
  it('every published sample reaches the detectors exactly once', async () => {
    const port = await freePort();
    writeFileSync(
      join(directory, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${directory}/`,
        'max_queued_messages 0',
        'max_inflight_messages 100',
      ].join('\n'),
    );
    broker = await startBroker(port);
    const url = `mqtt://127.0.0.1:${port}`;
    const counts = new Map<number, number>();
    const connections: string[] = [];
    const ingest = await startMqttIngest({
      url,
      clientId: 'andon-restart-ingest',
      topics: ['andon/plant/#'],
      sessionExpirySeconds: 300,
      reconnectInitialMs: 100,
      reconnectMaxMs: 500,
      onConnection: (event) => {
        if (event.type === 'connected') connections.push(event.detail);
      },
      onReadings: (batch) => {
        for (const reading of batch) counts.set(reading.value, (counts.get(reading.value) ?? 0) + 1);
      },
      onDeadLetter: (letter) => {
        throw new Error(letter.reason);
      },
      log: () => {},
    });
    const publisher = await mqtt.connectAsync(url, {
      clientId: 'andon-restart-publisher',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
      reconnectPeriod: 100,
    });
    const total = 600;
    const publishing = (async () => {
      for (let value = 1; value <= total; value++) {
        await publisher.publishAsync(
          `andon/plant/restart/l${value % 3}/t`,
          JSON.stringify({ value, timestamp: 1_700_000_000_000 + value }),
          { qos: 1 },
        );
        if (value % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    while (counts.size < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    broker.kill('SIGTERM'); // mosquitto writes its persistence file on a clean shutdown
    await once(broker, 'exit');
    await new Promise((resolve) => setTimeout(resolve, 300));
    broker = await startBroker(port);
    await publishing;
    const deadline = Date.now() + 10_000;
    while (counts.size < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await publisher.endAsync();
    await ingest.close();

    expect(counts.size).toBe(total);
    expect([...counts.values()].every((count) => count === 1)).toBe(true);
    expect(ingest.stats().reconnects).toBeGreaterThanOrEqual(1);
    // The broker kept the session (and the samples queued for it) through the restart.
    expect(connections).toEqual([expect.stringMatching(/session new/), expect.stringMatching(/session resumed/)]);
  });
});
