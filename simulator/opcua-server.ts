import { join } from 'node:path';
import {
  DataType,
  type EUInformation,
  makeEUInformation,
  OPCUACertificateManager,
  OPCUAServer,
  type StatusCode,
  StatusCodes,
  standardUnits,
  type UAVariable,
  Variant,
} from 'node-opcua';
import { readCertificate } from 'node-opcua-crypto';
import { AndonError } from '../core/index.ts';
import type { PlantSample, SignalSpec } from './plant.ts';

export interface OpcuaServerOptions {
  /** TCP port; 0 picks a free one. The OPC UA default is 4840. */
  port: number;
  signals: readonly SignalSpec[];
  /** Directory for the server's PKI (certificate and trust lists), created on first start. */
  pkiFolder: string;
  /** Keep this many samples per tag for history read; 0 turns history off. Default 10,000. */
  historyLength?: number;
  /** Hostname in the endpoint URL. Default 127.0.0.1. */
  hostname?: string;
  /** Username/password accounts; anonymous access stays on unless `allowAnonymous` is false. */
  users?: { username: string; password: string }[];
  allowAnonymous?: boolean;
  /**
   * X.509 user certificates (PEM or DER files) allowed to sign in with certificate authentication; their holders must
   * prove the private key. Others are refused.
   */
  userCertificateFiles?: string[];
}

export interface SimulatorOpcuaServer {
  endpointUrl: string;
  port: number;
  /** Node id of a tag: `ns=1;s=<tag>`. */
  nodeId(tag: string): string;
  /** Writes one plant sample into the address space (and its history). */
  publish(sample: PlantSample): void;
  /** Stops the server as a crash would, keeping the plant history; `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const unitInformation: Record<string, EUInformation> = {
  '°C': standardUnits.degree_celsius,
  bar: standardUnits.bar,
  s: standardUnits.second,
  N: standardUnits.newton,
  rpm: standardUnits.revolutions_per_minute,
};
const euFor = (unit: string): EUInformation => unitInformation[unit] ?? makeEUInformation(unit, unit, unit);

interface HistoryEntry {
  value: number;
  status: StatusCode;
  time: Date;
}

/**
 * The simulator's OPC UA server: every plant tag is an AnalogDataItem (Double, with EngineeringUnits and EURange)
 * under Objects/Plant/<area>/<line>, node id `ns=1;s=<tag>`, historizing so that clients can backfill after a gap.
 * The history lives outside the OPC UA server, so a `stop()`/`start()` (a server restart) keeps it, as a real
 * historian would.
 */
export async function startOpcuaServer(options: OpcuaServerOptions): Promise<SimulatorOpcuaServer> {
  const historyLength = options.historyLength ?? 10_000;
  const history = new Map<string, HistoryEntry[]>(options.signals.map((signal) => [signal.tag, []]));
  const hostname = options.hostname ?? '127.0.0.1';
  let port = options.port;
  let server: OPCUAServer | undefined;
  let variables = new Map<string, UAVariable>();
  const namespaceIndex = 1;

  const record = (tag: string, entry: HistoryEntry) => {
    const list = history.get(tag);
    if (list === undefined || historyLength === 0) return;
    list.push(entry);
    if (list.length > historyLength) list.splice(0, list.length - historyLength);
  };

  const build = async () => {
    const certificateManager = new OPCUACertificateManager({
      rootFolder: join(options.pkiFolder, 'server'),
      automaticallyAcceptUnknownCertificate: true,
    });
    const users = options.users ?? [];
    const userCertificateManager = new OPCUACertificateManager({
      rootFolder: join(options.pkiFolder, 'users'),
      automaticallyAcceptUnknownCertificate: false,
    });
    await userCertificateManager.initialize();
    for (const file of options.userCertificateFiles ?? []) {
      await userCertificateManager.trustCertificate(readCertificate(file));
    }
    const instance = new OPCUAServer({
      userCertificateManager,
      port,
      hostname,
      alternateHostname: [hostname],
      resourcePath: '/UA/andon',
      serverCertificateManager: certificateManager,
      allowAnonymous: options.allowAnonymous ?? true,
      buildInfo: { productName: 'andon plant simulator', manufacturerName: 'andon' },
      ...(users.length === 0
        ? {}
        : {
            userManager: {
              isValidUser: (username: string, password: string) =>
                users.some((user) => user.username === username && user.password === password),
            },
          }),
    });
    try {
      await instance.initialize();
    } catch (error) {
      throw new AndonError('unavailable', `The simulator's OPC UA server could not start (${String(error)}).`, {
        cause: error,
      });
    }
    const addressSpace = instance.engine.addressSpace!;
    const namespace = addressSpace.getOwnNamespace();
    const plant = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: 'Plant', nodeId: 's=Plant' });
    const folders = new Map<string, ReturnType<typeof namespace.addFolder>>();
    const folderFor = (path: string[]) => {
      let parent = plant;
      for (let depth = 1; depth <= path.length; depth++) {
        const key = path.slice(0, depth).join('.');
        let folder = folders.get(key);
        if (folder === undefined) {
          folder = namespace.addFolder(parent, { browseName: path[depth - 1]!, nodeId: `s=${key}` });
          folders.set(key, folder);
        }
        parent = folder;
      }
      return parent;
    };
    variables = new Map();
    for (const signal of options.signals) {
      const levels = signal.tag.split('.');
      const range = Math.max(signal.sigma * 20, Math.abs(signal.setpoint) * 0.5, 1);
      const variable = namespace.addAnalogDataItem({
        organizedBy: folderFor(levels.slice(0, -1)),
        browseName: levels.at(-1)!,
        nodeId: `s=${signal.tag}`,
        description: signal.description,
        dataType: 'Double',
        engineeringUnitsRange: { low: Math.min(0, signal.setpoint - range), high: signal.setpoint + range * 4 },
        engineeringUnits: euFor(signal.unit),
      });
      const past = history.get(signal.tag) ?? [];
      if (historyLength > 0) {
        addressSpace.installHistoricalDataNode(variable, { maxOnlineValues: historyLength });
        // Replaying the kept history rebuilds the new server's historian after a restart.
        for (const entry of past) {
          variable.setValueFromSource(
            new Variant({ dataType: DataType.Double, value: entry.value }),
            entry.status,
            entry.time,
          );
        }
      }
      const last = past.at(-1);
      if (last === undefined) {
        variable.setValueFromSource(new Variant({ dataType: DataType.Null }), StatusCodes.BadWaitingForInitialData);
      }
      variables.set(signal.tag, variable);
    }
    await instance.start();
    port = instance.endpoints[0]?.port ?? port;
    server = instance;
  };

  await build();
  const endpointUrl = () => `opc.tcp://${hostname}:${port}/UA/andon`;
  let closed = false;
  return {
    get endpointUrl() {
      return endpointUrl();
    },
    get port() {
      return port;
    },
    nodeId: (tag) => `ns=${namespaceIndex};s=${tag}`,
    publish(sample) {
      const time = new Date(sample.time);
      const seen = new Set<string>();
      for (const reading of sample.readings) {
        seen.add(reading.tag);
        const status =
          reading.quality === 'good'
            ? StatusCodes.Good
            : reading.quality === 'uncertain'
              ? StatusCodes.UncertainLastUsableValue
              : StatusCodes.BadSensorFailure;
        record(reading.tag, { value: reading.value, status, time });
        variables
          .get(reading.tag)
          ?.setValueFromSource(new Variant({ dataType: DataType.Double, value: reading.value }), status, time);
      }
      // A tag with no sample (sensor dropout) turns BadNoCommunication, as a gateway reports a lost field device.
      for (const [tag, variable] of variables) {
        if (seen.has(tag)) continue;
        const last = history.get(tag)?.at(-1);
        if (last?.status === StatusCodes.BadNoCommunication) continue;
        const entry = { value: last?.value ?? 0, status: StatusCodes.BadNoCommunication, time };
        record(tag, entry);
        variable.setValueFromSource(new Variant({ dataType: DataType.Double, value: entry.value }), entry.status, time);
      }
    },
    async stop() {
      const running = server;
      server = undefined;
      variables = new Map();
      await running?.shutdown(0);
    },
    async start() {
      if (closed) throw new AndonError('conflict', 'The simulator OPC UA server was closed.');
      if (server === undefined) await build();
    },
    async close() {
      closed = true;
      const running = server;
      server = undefined;
      await running?.shutdown(0);
    },
  };
}
