import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import { createPlant, parseScenario, type SimulatorOpcuaServer, startOpcuaServer } from '../../simulator/index.ts';
import { startOpcuaIngest } from './ingest.ts';

/**
 * OPC UA security against the simulator's node-opcua server: signed and encrypted channels with Basic256Sha256, the
 * client certificate andon creates on first use, the trust store in its PKI folder, and X.509 user authentication.
 */
const directory = mkdtempSync(join(tmpdir(), 'andon-opcua-security-'));
const serverPki = join(directory, 'server');
const clientPki = join(directory, 'client');
const plant = createPlant({
  scenario: parseScenario({ name: 'security' }),
  seed: 3,
  intervalMs: 100,
  startTime: new Date(Date.now() - 60_000),
});
const tag = 'packaging.line1.seal_temperature';
let server: SimulatorOpcuaServer;
let userCertificate: string;
let userKey: string;

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

beforeAll(async () => {
  // A user certificate for certificate authentication, made the way an administrator would (self-signed, own key).
  const userPki = join(directory, 'user');
  const users = new OPCUACertificateManager({ rootFolder: userPki });
  await users.initialize();
  userCertificate = join(userPki, 'own', 'certs', 'operator.pem');
  userKey = join(userPki, 'own', 'private', 'private_key.pem');
  await users.createSelfSignedCertificate({
    applicationUri: 'urn:andon:test:operator',
    subject: '/CN=operator/O=andon',
    dns: [],
    startDate: new Date(),
    validity: 30,
    outputFile: userCertificate,
  });
  server = await startOpcuaServer({
    port: 0,
    signals: plant.signals,
    pkiFolder: serverPki,
    userCertificateFiles: [userCertificate],
  });
  for (let index = 0; index < 3; index++) server.publish(plant.step());
});
afterAll(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

const ingestWith = (options: Partial<Parameters<typeof startOpcuaIngest>[0]>, readings: Reading[]) =>
  startOpcuaIngest({
    endpoint: server.endpointUrl,
    pkiFolder: clientPki,
    tags: [{ tag, nodeId: server.nodeId(tag), samplingIntervalMs: 0 }],
    publishingIntervalMs: 50,
    onReadings: (batch) => {
      readings.push(...batch);
    },
    log: () => {},
    ...options,
  });

describe('OPC UA security', () => {
  it('SignAndEncrypt with Basic256Sha256: refuses an untrusted server certificate, then works once it is trusted', async () => {
    const security = { mode: 'SignAndEncrypt', policy: 'Basic256Sha256' } as const;
    const refused = await ingestWith({ security }, []).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toMatch(/trusts only server certificates in .*trusted[/\\]certs/);
    // andon made its client certificate on first use, in its data directory.
    expect(existsSync(join(clientPki, 'own', 'certs', 'client_certificate.pem'))).toBe(true);
    // The refused server certificate waits in rejected/: the operator checks it and moves it to trusted/certs.
    const rejected = readdirSync(join(clientPki, 'rejected')).filter((file) => /\.(pem|der)$/.test(file));
    expect(rejected).toHaveLength(1);
    mkdirSync(join(clientPki, 'trusted', 'certs'), { recursive: true });
    renameSync(join(clientPki, 'rejected', rejected[0]!), join(clientPki, 'trusted', 'certs', rejected[0]!));

    const readings: Reading[] = [];
    const ingest = await ingestWith({ security }, readings);
    server.publish(plant.step());
    await waitFor(() => readings.some((reading) => reading.quality === 'good'), 'an encrypted value');
    expect(ingest.connected()).toBe(true);
    await ingest.close();
  });

  it('Sign with Basic256Sha256 uses the same trusted certificate', async () => {
    const readings: Reading[] = [];
    const ingest = await ingestWith({ security: { mode: 'Sign', policy: 'Basic256Sha256' } }, readings);
    server.publish(plant.step());
    await waitFor(() => readings.some((reading) => reading.quality === 'good'), 'a signed value');
    await ingest.close();
  });

  it('authenticates with an X.509 user certificate over an encrypted channel, and refuses an unknown one', async () => {
    const security = { mode: 'SignAndEncrypt', policy: 'Basic256Sha256' } as const;
    const readings: Reading[] = [];
    const ingest = await ingestWith(
      { security, auth: { type: 'certificate', certificateFile: userCertificate, privateKeyFile: userKey } },
      readings,
    );
    server.publish(plant.step());
    await waitFor(() => readings.some((reading) => reading.quality === 'good'), 'a value for the certificate user');
    await ingest.close();

    // andon's own application certificate is not a trusted user certificate.
    const stranger = await ingestWith(
      {
        security,
        auth: {
          type: 'certificate',
          certificateFile: join(clientPki, 'own', 'certs', 'client_certificate.pem'),
          privateKeyFile: join(clientPki, 'own', 'private', 'private_key.pem'),
        },
      },
      [],
    ).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(stranger?.message).toMatch(/OPC UA ingest cannot start .*BadIdentityTokenRejected/);
  });
});
