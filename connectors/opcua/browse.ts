import { join } from 'node:path';
import {
  AttributeIds,
  BrowseDirection,
  type ClientSession,
  DataType,
  MessageSecurityMode,
  NodeClass,
  NodeClassMask,
  type NodeId,
  OPCUACertificateManager,
  OPCUAClient,
  resolveNodeId,
  SecurityPolicy,
} from 'node-opcua';
import { stringify } from 'yaml';
import { AndonError } from '../../core/index.ts';
import type { OpcuaAuth, OpcuaSecurity, OpcuaTagConfig } from './config.ts';
import { userIdentity } from './ingest.ts';

/** One variable found by browsing, with what a tag config needs. */
export interface OpcuaVariable {
  nodeId: string;
  /** Browse names from the start node, e.g. `Plant/packaging/line1/seal_temperature`. */
  browsePath: string;
  displayName: string;
  dataType: string;
  /** EngineeringUnits display name, when the variable has the property. */
  unit?: string;
  range?: { low: number; high: number };
  historizing: boolean;
  /** A tag name: the string node id when it is a valid tag, otherwise the browse path joined with dots. */
  suggestedTag: string;
}

export interface BrowseOptions {
  endpoint: string;
  security?: OpcuaSecurity;
  auth?: OpcuaAuth;
  pkiFolder: string;
  /** Where to start. Default the Objects folder (i=85). */
  nodeId?: string;
  maxDepth?: number;
  /** Also list namespace-0 variables (the Server object's diagnostics). Default false. */
  includeStandardNodes?: boolean;
  /** Stop after this many variables. Default 5,000. */
  limit?: number;
}

const NUMERIC = new Set([
  'Boolean',
  'SByte',
  'Byte',
  'Int16',
  'UInt16',
  'Int32',
  'UInt32',
  'Int64',
  'UInt64',
  'Float',
  'Double',
]);

const TAG_PATTERN = /^[A-Za-z0-9_.:/-]+$/;
const tagFromPath = (path: string[]) =>
  path
    .map((part) => part.replace(/[^A-Za-z0-9_:-]+/g, '_'))
    .filter((part) => part.length > 0)
    .join('.');

async function dataTypeName(session: ClientSession, dataTypeId: NodeId, cache: Map<string, string>): Promise<string> {
  const key = dataTypeId.toString();
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  let name: string;
  if (dataTypeId.namespace === 0 && typeof dataTypeId.value === 'number' && DataType[dataTypeId.value] !== undefined) {
    name = DataType[dataTypeId.value]!;
  } else {
    const browseName = await session.read({ nodeId: dataTypeId, attributeId: AttributeIds.BrowseName });
    name = String(browseName.value?.value?.name ?? key);
  }
  cache.set(key, name);
  return name;
}

/** Opens a session with the same security and identity options as ingest. */
export async function openOpcuaSession(options: {
  endpoint: string;
  security?: OpcuaSecurity;
  auth?: OpcuaAuth;
  pkiFolder: string;
}): Promise<{ session: ClientSession; close(): Promise<void> }> {
  const security = options.security ?? { mode: 'None', policy: 'None' };
  const client = OPCUAClient.create({
    applicationName: 'andon',
    endpointMustExist: false,
    securityMode: MessageSecurityMode[security.mode],
    securityPolicy: SecurityPolicy[security.policy],
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: options.pkiFolder,
      automaticallyAcceptUnknownCertificate: security.mode === 'None',
    }),
    certificateFile: join(options.pkiFolder, 'own', 'certs', 'client_certificate.pem'),
    privateKeyFile: join(options.pkiFolder, 'own', 'private', 'private_key.pem'),
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 500 },
  });
  try {
    await client.connect(options.endpoint);
    const session = await client.createSession(await userIdentity(options.auth ?? { type: 'anonymous' }));
    return {
      session,
      async close() {
        await session.close().catch(() => undefined);
        await client.disconnect();
      },
    };
  } catch (error) {
    await client.disconnect().catch(() => undefined);
    throw new AndonError(
      'unavailable',
      `Cannot open an OPC UA session at ${options.endpoint} (${error instanceof Error ? error.message : String(error)}). Check the endpoint, security mode and credentials.`,
      { retryable: true, cause: error },
    );
  }
}

/**
 * Walks the address space below a node and lists its variables with data type, engineering units and history
 * support, so that a tag config can be written instead of typed.
 */
export async function browseOpcuaVariables(options: BrowseOptions): Promise<OpcuaVariable[]> {
  const { session, close } = await openOpcuaSession(options);
  const maxDepth = options.maxDepth ?? 10;
  const limit = options.limit ?? 5_000;
  const found: OpcuaVariable[] = [];
  const typeNames = new Map<string, string>();
  const visited = new Set<string>();
  try {
    const start = resolveNodeId(options.nodeId ?? 'i=85');
    const queue: { nodeId: NodeId; path: string[]; depth: number }[] = [{ nodeId: start, path: [], depth: 0 }];
    while (queue.length > 0 && found.length < limit) {
      const current = queue.shift()!;
      const key = current.nodeId.toString();
      if (visited.has(key)) continue;
      visited.add(key);
      const result = await session.browse({
        nodeId: current.nodeId,
        browseDirection: BrowseDirection.Forward,
        referenceTypeId: 'HierarchicalReferences',
        includeSubtypes: true,
        nodeClassMask: NodeClassMask.Object | NodeClassMask.Variable,
        resultMask: 0x3f,
      });
      for (const reference of result.references ?? []) {
        const nodeId = reference.nodeId;
        if (!options.includeStandardNodes && nodeId.namespace === 0) continue;
        const name = reference.browseName.name ?? nodeId.toString();
        const path = [...current.path, name];
        if (reference.nodeClass === NodeClass.Variable) {
          if (reference.referenceTypeId.toString() === 'ns=0;i=46') continue; // HasProperty: EURange and friends
          const [dataType, historizing] = await session.read([
            { nodeId, attributeId: AttributeIds.DataType },
            { nodeId, attributeId: AttributeIds.Historizing },
          ]);
          const properties = await session.browse({
            nodeId,
            browseDirection: BrowseDirection.Forward,
            referenceTypeId: 'HasProperty',
            includeSubtypes: true,
            resultMask: 0x3f,
          });
          const property = (propertyName: string) =>
            properties.references?.find((item) => item.browseName.name === propertyName)?.nodeId;
          const unitsNode = property('EngineeringUnits');
          const rangeNode = property('EURange');
          const [units, range] = await session.read([
            ...(unitsNode ? [{ nodeId: unitsNode, attributeId: AttributeIds.Value }] : []),
            ...(rangeNode ? [{ nodeId: rangeNode, attributeId: AttributeIds.Value }] : []),
          ]);
          const unitsValue = unitsNode ? units?.value?.value : undefined;
          const rangeValue = rangeNode ? (unitsNode ? range : units)?.value?.value : undefined;
          const stringId = typeof nodeId.value === 'string' ? nodeId.value : undefined;
          const variable: OpcuaVariable = {
            nodeId: nodeId.toString(),
            browsePath: path.join('/'),
            displayName: reference.displayName.text ?? name,
            dataType: dataType?.value?.value
              ? await dataTypeName(session, dataType.value.value as NodeId, typeNames)
              : 'Unknown',
            historizing: historizing?.value?.value === true,
            suggestedTag: stringId !== undefined && TAG_PATTERN.test(stringId) ? stringId : tagFromPath(path),
          };
          const unitText = unitsValue?.displayName?.text;
          if (typeof unitText === 'string' && unitText.length > 0) variable.unit = unitText;
          if (typeof rangeValue?.low === 'number' && typeof rangeValue?.high === 'number') {
            variable.range = { low: rangeValue.low, high: rangeValue.high };
          }
          found.push(variable);
          if (found.length >= limit) break;
        }
        if (current.depth + 1 < maxDepth) queue.push({ nodeId, path, depth: current.depth + 1 });
      }
    }
  } finally {
    await close();
  }
  return found;
}

/** The numeric variables as a tag config (YAML) for `startOpcuaIngest`; non-numeric ones are listed as comments. */
export function opcuaTagConfigYaml(
  endpoint: string,
  variables: readonly OpcuaVariable[],
  defaults: { samplingIntervalMs?: number; queueSize?: number; security?: OpcuaSecurity; auth?: OpcuaAuth } = {},
): string {
  const numeric = variables.filter((variable) => NUMERIC.has(variable.dataType));
  const skipped = variables.filter((variable) => !NUMERIC.has(variable.dataType));
  const config: OpcuaTagConfig = {
    endpoint,
    security: defaults.security ?? { mode: 'None', policy: 'None' },
    // A password never goes into the file: OPCUA_PASSWORD supplies it at start.
    auth:
      defaults.auth?.type === 'username'
        ? { type: 'username', username: defaults.auth.username, password: '' }
        : (defaults.auth ?? { type: 'anonymous' }),
    publishingIntervalMs: 1000,
    tags: numeric.map((variable) => ({
      tag: variable.suggestedTag,
      nodeId: variable.nodeId,
      samplingIntervalMs: defaults.samplingIntervalMs ?? 1000,
      queueSize: defaults.queueSize ?? 10,
      dataType: variable.dataType,
      ...(variable.unit === undefined ? {} : { unit: variable.unit }),
      description: variable.browsePath,
    })),
  };
  const header = `# OPC UA tag config written by \`andon opcua browse\` on ${new Date().toISOString()}\n# Edit tag names freely; add deadband: { type: absolute, value: 0.1 } per tag to cut noise.\n`;
  const footer =
    skipped.length === 0
      ? ''
      : `# Not numeric, left out:\n${skipped.map((variable) => `#   ${variable.nodeId} (${variable.dataType}) ${variable.browsePath}`).join('\n')}\n`;
  return header + stringify(config) + footer;
}
