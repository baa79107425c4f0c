import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Reading } from '../../core/index.ts';
import { createPlant, parseScenario, type SimulatorOpcuaServer, startOpcuaServer } from '../../simulator/index.ts';
import { browseOpcuaVariables, opcuaTagConfigYaml } from './browse.ts';
import { type OpcuaHealthEvent, OpcuaTagConfig, qualityFromStatusCode } from './config.ts';
import { startOpcuaIngest } from './ingest.ts';

// Certificates are slow to make: keep them between runs.
const pki = join(tmpdir(), 'andon-test-opcua-pki');
const scenario = parseScenario({
  name: 'opcua-test',
  faults: [
    {
      kind: 'bad-quality',
      tag: 'packaging.line1.cycle_time',
      startSample: 3,
      durationSamples: 2,
      quality: 'uncertain',
    },
  ],
});
const plant = createPlant({ scenario, seed: 5, intervalMs: 100, startTime: new Date(Date.now() - 60_000) });
let server: SimulatorOpcuaServer;

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

beforeAll(async () => {
  server = await startOpcuaServer({
    port: 0,
    signals: plant.signals,
    pkiFolder: join(pki, 'simulator'),
    users: [{ username: 'operator', password: 'secret' }],
  });
});
afterAll(async () => {
  await server?.close();
});

describe('OPC UA connector against the simulator server', () => {
  it('maps StatusCode severity to quality', () => {
    expect(qualityFromStatusCode(0)).toBe('good');
    expect(qualityFromStatusCode(0x408f0000)).toBe('uncertain');
    expect(qualityFromStatusCode(0x80310000)).toBe('bad');
  });

  it('browses variables with data type and units and writes a tag config', async () => {
    const variables = await browseOpcuaVariables({ endpoint: server.endpointUrl, pkiFolder: join(pki, 'client') });
    const temperature = variables.find((variable) => variable.suggestedTag === 'packaging.line1.seal_temperature');
    expect(temperature).toMatchObject({
      nodeId: 'ns=1;s=packaging.line1.seal_temperature',
      browsePath: 'Plant/packaging/line1/seal_temperature',
      dataType: 'Double',
      unit: '°C',
      historizing: true,
    });
    const config = OpcuaTagConfig.parse(parse(opcuaTagConfigYaml(server.endpointUrl, variables)));
    expect(config.tags.map((tag) => tag.tag).sort()).toEqual(plant.signals.map((signal) => signal.tag).sort());
  });

  it('authenticates with username and password, and explains a refusal', async () => {
    const tag = 'packaging.line1.seal_temperature';
    const options = {
      endpoint: server.endpointUrl,
      pkiFolder: join(pki, 'client'),
      tags: [{ tag, nodeId: server.nodeId(tag) }],
      onReadings: () => {},
      log: () => {},
    };
    const ingest = await startOpcuaIngest({
      ...options,
      auth: { type: 'username', username: 'operator', password: 'secret' },
    });
    expect(ingest.connected()).toBe(true);
    await ingest.close();
    await expect(
      startOpcuaIngest({ ...options, auth: { type: 'username', username: 'operator', password: 'wrong' } }),
    ).rejects.toThrow(
      /OPC UA ingest cannot start against opc\.tcp:.*Check the endpoint URL, the security mode and policy, the credentials/,
    );
  });

  it('subscribes, keeps both timestamps and quality, survives a server restart and backfills the gap', async () => {
    const readings: Reading[] = [];
    const events: OpcuaHealthEvent[] = [];
    const tags = ['packaging.line1.seal_temperature', 'packaging.line1.cycle_time'];
    const ingest = await startOpcuaIngest({
      endpoint: server.endpointUrl,
      pkiFolder: join(pki, 'client'),
      tags: tags.map((tag) => ({ tag, nodeId: server.nodeId(tag), samplingIntervalMs: 0, queueSize: 100, unit: 'u' })),
      publishingIntervalMs: 50,
      reconnectInitialMs: 200,
      onReadings: (batch) => {
        readings.push(...batch);
      },
      onHealth: (event) => events.push(event),
      log: () => {},
    });
    const publish = (count: number) => {
      for (let index = 0; index < count; index++) server.publish(plant.step());
    };
    await new Promise((resolve) => setTimeout(resolve, 300));
    publish(1);
    await waitFor(() => readings.filter((reading) => reading.quality === 'good').length >= 2, 'first values');
    for (let index = 0; index < 6; index++) {
      publish(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    await waitFor(
      () => readings.some((reading) => reading.quality === 'uncertain' && reading.tag === tags[1]),
      'uncertain',
    );
    for (const reading of readings) Reading.parse(reading);
    expect(readings.every((reading) => reading.serverTime !== undefined)).toBe(true);

    const before = readings.length;
    await server.stop();
    publish(10); // the plant goes on while the server is down; its historian keeps the samples
    await waitFor(() => events.some((event) => event.kind === 'offline'), 'offline event');
    await server.start();
    await waitFor(() => events.some((event) => event.kind === 'backfilled'), 'backfill', 30_000);
    publish(1);
    await waitFor(() => readings.length >= before + 22, 'backfilled and new samples', 15_000);
    const temperature = readings
      .filter((reading) => reading.tag === tags[0])
      .map((reading) => Date.parse(reading.sourceTime));
    expect(temperature).toEqual([...temperature].sort((a, b) => a - b));
    expect(new Set(temperature).size).toBe(temperature.length);
    expect(ingest.stats().backfilled).toBeGreaterThanOrEqual(20);
    expect(ingest.stats().reconnects).toBeGreaterThanOrEqual(1);
    await ingest.close();
  });

  it('reports a gap it cannot fill as a data-gap health event', async () => {
    const bare = await startOpcuaServer({
      port: 0,
      signals: plant.signals,
      pkiFolder: join(pki, 'simulator'),
      historyLength: 0,
    });
    const events: OpcuaHealthEvent[] = [];
    const readings: Reading[] = [];
    const tag = 'packaging.line1.seal_pressure';
    const ingest = await startOpcuaIngest({
      endpoint: bare.endpointUrl,
      pkiFolder: join(pki, 'client'),
      tags: [{ tag, nodeId: bare.nodeId(tag), samplingIntervalMs: 0 }],
      publishingIntervalMs: 50,
      reconnectInitialMs: 200,
      onReadings: (batch) => {
        readings.push(...batch);
      },
      onHealth: (event) => events.push(event),
      log: () => {},
    });
    bare.publish(plant.step());
    await waitFor(() => readings.some((reading) => reading.quality === 'good'), 'a value');
    await bare.stop();
    bare.publish(plant.step());
    await bare.start();
    await waitFor(() => events.some((event) => event.kind === 'data-gap'), 'data-gap', 30_000);
    expect(events.find((event) => event.kind === 'data-gap')).toMatchObject({
      scope: tag,
      from: expect.any(String),
      to: expect.any(String),
    });
    expect(ingest.stats().gaps).toBe(1);
    await ingest.close();
    await bare.close();
  });
});
