import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { browseOpcuaVariables, OpcuaSecurity, opcuaTagConfigYaml } from '../../connectors/opcua/index.ts';
import { loadConfig } from '../config.ts';
import type { Command } from './command.ts';

const usage = `andon opcua browse <endpoint> [--node ns=1;s=Plant] [--out opcua-tags.yaml] [--depth N]
                   [--security-mode None|Sign|SignAndEncrypt] [--security-policy Basic256Sha256|...]
                   [--username NAME --password SECRET] [--sampling-ms N] [--queue-size N]

Lists the variables below a node (default: the Objects folder) with data type, engineering units and whether the
server keeps their history, and writes a tag config for the OPC UA connector (default ./opcua-tags.yaml), so nobody
types node ids by hand. The client certificate and trust store live in <ANDON_DATA_DIR>/opcua-pki.`;

export const command: Command = {
  name: 'opcua',
  summary: 'OPC UA tools: opcua browse <endpoint> lists variables and writes a tag config',
  usage,
  async run(args) {
    let values: Record<string, string | boolean | undefined>;
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          node: { type: 'string' },
          out: { type: 'string' },
          depth: { type: 'string' },
          'security-mode': { type: 'string' },
          'security-policy': { type: 'string' },
          username: { type: 'string' },
          password: { type: 'string' },
          'sampling-ms': { type: 'string' },
          'queue-size': { type: 'string' },
          help: { type: 'boolean' },
        },
      }));
    } catch (error) {
      console.error(`${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    if (values.help) {
      console.log(usage);
      return 0;
    }
    const [action, endpoint] = positionals;
    if (action !== 'browse' || endpoint === undefined) {
      console.error(usage);
      return 2;
    }
    if (!endpoint.startsWith('opc.tcp://')) {
      console.error(`The endpoint must start with opc.tcp://, not "${endpoint}".`);
      return 2;
    }
    const security = OpcuaSecurity.safeParse({
      mode: values['security-mode'] ?? 'None',
      policy:
        values['security-policy'] ??
        (values['security-mode'] && values['security-mode'] !== 'None' ? 'Basic256Sha256' : 'None'),
    });
    if (!security.success) {
      console.error(`Invalid security options: ${security.error.issues.map((issue) => issue.message).join('; ')}`);
      return 2;
    }
    const username = values.username as string | undefined;
    const config = loadConfig();
    const variables = await browseOpcuaVariables({
      endpoint,
      security: security.data,
      pkiFolder: join(config.ANDON_DATA_DIR, 'opcua-pki', 'client'),
      ...(typeof values.node === 'string' ? { nodeId: values.node } : {}),
      ...(typeof values.depth === 'string' ? { maxDepth: Number(values.depth) } : {}),
      ...(username === undefined
        ? {}
        : { auth: { type: 'username', username, password: String(values.password ?? '') } }),
    });
    if (variables.length === 0) {
      console.error(
        `No variables below ${values.node ?? 'the Objects folder'} at ${endpoint}. Try --node with another start node.`,
      );
      return 1;
    }
    const widths = [
      Math.max(...variables.map((variable) => variable.nodeId.length)),
      Math.max(...variables.map((variable) => variable.dataType.length)),
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
    const out = (values.out as string | undefined) ?? 'opcua-tags.yaml';
    await writeFile(
      out,
      opcuaTagConfigYaml(endpoint, variables, {
        security: security.data,
        ...(typeof values['sampling-ms'] === 'string' ? { samplingIntervalMs: Number(values['sampling-ms']) } : {}),
        ...(typeof values['queue-size'] === 'string' ? { queueSize: Number(values['queue-size']) } : {}),
      }),
    );
    console.log(`\n${variables.length} variable(s); tag config written to ${out}`);
    return 0;
  },
};
