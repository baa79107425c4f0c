import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  browseOpcuaVariables,
  OpcuaAuth,
  OpcuaSecurity,
  type OpcuaVariable,
  opcuaTagConfigYaml,
} from '../../connectors/opcua/index.ts';
import { loadConfig } from '../config.ts';
import { parseCommandLine } from './args.ts';
import type { Command } from './command.ts';

const usage = `andon opcua browse <endpoint> [--node ns=1;s=Plant] [--out opcua-tags.yaml] [--depth N]
                   [--security-mode None|Sign|SignAndEncrypt] [--security-policy Basic256Sha256|...]
                   [--username NAME --password SECRET | --certificate user.pem --private-key user-key.pem]
                   [--sampling-ms N] [--queue-size N]

Lists the variables below a node (default: the Objects folder) with data type, engineering units and whether the
server keeps their history, and writes a tag config for the OPC UA connector (default ./opcua-tags.yaml; start andon
with OPCUA_CONFIG=<file>), so nobody types node ids by hand. The client certificate and trust store live in
<ANDON_DATA_DIR>/opcua-pki/client: with Sign or SignAndEncrypt, trust the server's certificate by moving it from
rejected/ to trusted/certs/ (README, "Connecting a real plant"). A password is never written to the file.`;

const positiveInteger = (value: string | boolean | undefined, flag: string): number | undefined => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`--${flag} must be a whole number ≥ 0, not "${value}"`);
  return number;
};

function printTable(variables: readonly OpcuaVariable[]) {
  const widths = [
    Math.max(7, ...variables.map((variable) => variable.nodeId.length)),
    Math.max(4, ...variables.map((variable) => variable.dataType.length)),
    Math.max(4, ...variables.map((variable) => (variable.unit ?? '').length)),
  ];
  console.log(
    `${'node id'.padEnd(widths[0]!)}  ${'type'.padEnd(widths[1]!)}  ${'unit'.padEnd(widths[2]!)}  history  path`,
  );
  for (const variable of variables) {
    console.log(
      `${variable.nodeId.padEnd(widths[0]!)}  ${variable.dataType.padEnd(widths[1]!)}  ${(variable.unit ?? '').padEnd(widths[2]!)}  ${variable.historizing ? 'yes    ' : 'no     '}  ${variable.browsePath}`,
    );
  }
}

export const command: Command = {
  name: 'opcua',
  summary: 'OPC UA tools: opcua browse <endpoint> lists variables and writes a tag config',
  usage,
  async run(args) {
    const parsed = parseCommandLine(
      args,
      {
        node: { type: 'string' },
        out: { type: 'string' },
        depth: { type: 'string' },
        'security-mode': { type: 'string' },
        'security-policy': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        certificate: { type: 'string' },
        'private-key': { type: 'string' },
        'sampling-ms': { type: 'string' },
        'queue-size': { type: 'string' },
      },
      usage,
    );
    if (typeof parsed === 'number') return parsed;
    const { values, positionals } = parsed;
    const [action, endpoint, ...extra] = positionals;
    if (action !== 'browse' || endpoint === undefined || extra.length > 0) {
      console.error(usage);
      return 2;
    }
    if (!endpoint.startsWith('opc.tcp://')) {
      console.error(`The endpoint must start with opc.tcp://, not "${endpoint}".`);
      return 2;
    }
    const mode = values['security-mode'] ?? 'None';
    const security = OpcuaSecurity.safeParse({
      mode,
      policy: values['security-policy'] ?? (mode !== 'None' ? 'Basic256Sha256' : 'None'),
    });
    if (!security.success) {
      console.error(`Invalid security options: ${security.error.issues.map((issue) => issue.message).join('; ')}`);
      return 2;
    }
    const auth = OpcuaAuth.safeParse(
      values.certificate !== undefined || values['private-key'] !== undefined
        ? { type: 'certificate', certificateFile: values.certificate, privateKeyFile: values['private-key'] }
        : values.username !== undefined
          ? { type: 'username', username: values.username, password: values.password ?? '' }
          : { type: 'anonymous' },
    );
    if (!auth.success) {
      console.error(
        `Invalid authentication options (${auth.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}): give --username and --password, or --certificate and --private-key.`,
      );
      return 2;
    }
    let depth: number | undefined;
    let samplingIntervalMs: number | undefined;
    let queueSize: number | undefined;
    try {
      depth = positiveInteger(values.depth, 'depth');
      samplingIntervalMs = positiveInteger(values['sampling-ms'], 'sampling-ms');
      queueSize = positiveInteger(values['queue-size'], 'queue-size');
    } catch (error) {
      console.error(`${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    const config = loadConfig();
    const node = typeof values.node === 'string' ? values.node : undefined;
    const variables = await browseOpcuaVariables({
      endpoint,
      security: security.data,
      auth: auth.data,
      pkiFolder: join(config.ANDON_DATA_DIR, 'opcua-pki', 'client'),
      ...(node === undefined ? {} : { nodeId: node }),
      ...(depth === undefined ? {} : { maxDepth: depth }),
    });
    if (variables.length === 0) {
      console.error(
        `No variables below ${node ?? 'the Objects folder'} at ${endpoint}. Try --node with another start node.`,
      );
      return 1;
    }
    printTable(variables);
    const out = typeof values.out === 'string' ? values.out : 'opcua-tags.yaml';
    await writeFile(
      out,
      opcuaTagConfigYaml(endpoint, variables, {
        security: security.data,
        auth: auth.data,
        ...(samplingIntervalMs === undefined ? {} : { samplingIntervalMs }),
        ...(queueSize === undefined ? {} : { queueSize }),
      }),
    );
    console.log(
      `\n${variables.length} variable(s); tag config written to ${out} (start andon with OPCUA_CONFIG=${out})`,
    );
    return 0;
  },
};
