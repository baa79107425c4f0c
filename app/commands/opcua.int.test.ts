import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadOpcuaTagConfig, startOpcuaIngest } from '../../connectors/opcua/index.ts';
import type { Reading } from '../../core/index.ts';
import { createPlant, parseScenario, type SimulatorOpcuaServer, startOpcuaServer } from '../../simulator/index.ts';
import { command } from './opcua.ts';

const directory = mkdtempSync(join(tmpdir(), 'andon-opcua-browse-'));
const plant = createPlant({
  scenario: parseScenario({ name: 'browse' }),
  seed: 4,
  intervalMs: 100,
  startTime: new Date(Date.now() - 60_000),
});
let server: SimulatorOpcuaServer;
const previousDataDir = process.env.ANDON_DATA_DIR;

beforeAll(async () => {
  process.env.ANDON_DATA_DIR = join(directory, 'data');
  server = await startOpcuaServer({ port: 0, signals: plant.signals, pkiFolder: join(directory, 'server') });
  server.publish(plant.step());
});
afterAll(async () => {
  await server?.close();
  if (previousDataDir === undefined) delete process.env.ANDON_DATA_DIR;
  else process.env.ANDON_DATA_DIR = previousDataDir;
  rmSync(directory, { recursive: true, force: true });
});

describe('andon opcua browse', () => {
  it('lists the variables below a node and writes a tag config that ingest runs as is', async () => {
    const out = join(directory, 'packaging.yaml');
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const code = await command
      .run(['browse', server.endpointUrl, '--node', 'ns=1;s=packaging', '--out', out, '--sampling-ms', '250'])
      .finally(() => spy.mockRestore());
    expect(code).toBe(0);
    expect(lines.join('\n')).toMatch(
      /ns=1;s=packaging\.line1\.seal_temperature\s+Double\s+°C\s+yes\s+line1\/seal_temperature$/m,
    );

    const config = await loadOpcuaTagConfig(out);
    const packaging = plant.signals.filter((signal) => signal.tag.startsWith('packaging.')).map((signal) => signal.tag);
    expect(config.endpoint).toBe(server.endpointUrl);
    expect(config.tags.map((tag) => tag.tag).sort()).toEqual(packaging.sort());
    expect(config.tags.find((tag) => tag.tag === 'packaging.line1.seal_temperature')).toMatchObject({
      nodeId: 'ns=1;s=packaging.line1.seal_temperature',
      samplingIntervalMs: 250,
      unit: '°C',
      dataType: 'Double',
    });
    expect(readFileSync(out, 'utf8')).toMatch(/^# OPC UA tag config written by `andon opcua browse`/);

    const readings: Reading[] = [];
    const ingest = await startOpcuaIngest({
      endpoint: config.endpoint,
      security: config.security,
      auth: config.auth,
      tags: config.tags,
      publishingIntervalMs: 100,
      pkiFolder: join(directory, 'data', 'opcua-pki', 'client'),
      onReadings: (batch) => {
        readings.push(...batch);
      },
      log: () => {},
    });
    server.publish(plant.step());
    const deadline = Date.now() + 15_000;
    while (!readings.some((reading) => reading.tag === 'packaging.line1.seal_temperature') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(readings.some((reading) => reading.tag === 'packaging.line1.seal_temperature')).toBe(true);
    await ingest.close();
  });

  it('explains bad usage with exit code 2', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
      errors.push(String(line));
    });
    try {
      expect(await command.run(['browse', 'http://example'])).toBe(2);
      expect(await command.run(['browse', server.endpointUrl, '--security-mode', 'Encrypt'])).toBe(2);
      expect(await command.run(['browse', server.endpointUrl, '--certificate', 'user.pem'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/must start with opc\.tcp:\/\//);
    expect(errors.join('\n')).toMatch(/Invalid security options/);
    expect(errors.join('\n')).toMatch(/--certificate and --private-key/);
  });
});
