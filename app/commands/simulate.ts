import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type EmbeddedBroker, loadSparkplugCodec, startEmbeddedBroker } from '../../connectors/mqtt/index.ts';
import {
  builtInScenarios,
  createPlant,
  resolveScenario,
  type SimulatorOpcuaServer,
  startOpcuaServer,
  startReplay,
  startSimulator,
} from '../../simulator/index.ts';
import { loadConfig } from '../config.ts';
import type { Command } from './command.ts';

const usage = `andon simulate [--mqtt-url URL] [--scenario NAME|file.yaml] [--interval-ms N] [--speed N] [--seed N]
               [--format json|sparkplug|both] [--opcua-port N | --no-opcua] [--samples N]
andon simulate --replay file.csv [--interval-ms N] [--speed N] [--tag-prefix P] [--columns a,b] [--transpose] [--loop]

Runs the plant simulator: a packaging line and a batch reactor (per scenario) published over MQTT and served over
OPC UA (opc.tcp://127.0.0.1:4840/UA/andon, node ids ns=1;s=<tag>), with the scenario's faults logged as they start.
With --replay it publishes a recorded CSV instead (e.g. ../shared/benchdata/tep/d01_te.dat, --interval-ms 180000).
Defaults come from MQTT_URL (unset: an embedded broker on MQTT_EMBEDDED_PORT), SIMULATOR_SCENARIO and
SIMULATOR_INTERVAL_MS. Scenarios: ${Object.keys(builtInScenarios).join(', ')} or a YAML file (simulator/README.md).`;

const positive = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number, not "${value}"`);
  return number;
};

export const command: Command = {
  name: 'simulate',
  summary: 'Run the plant simulator (MQTT JSON / Sparkplug B and an OPC UA server), or replay a CSV',
  usage,
  async run(args) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          'mqtt-url': { type: 'string' },
          scenario: { type: 'string' },
          'interval-ms': { type: 'string' },
          speed: { type: 'string' },
          seed: { type: 'string' },
          format: { type: 'string' },
          'opcua-port': { type: 'string' },
          'no-opcua': { type: 'boolean' },
          samples: { type: 'string' },
          replay: { type: 'string' },
          'tag-prefix': { type: 'string' },
          columns: { type: 'string' },
          transpose: { type: 'boolean' },
          loop: { type: 'boolean' },
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
    const config = loadConfig();
    let intervalMs: number | undefined;
    let speed: number | undefined;
    let samples: number | undefined;
    try {
      intervalMs = positive(values['interval-ms'] as string | undefined, 'interval-ms');
      speed = positive(values.speed as string | undefined, 'speed');
      samples = positive(values.samples as string | undefined, 'samples');
    } catch (error) {
      console.error(`${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    const format = (values.format as string | undefined) ?? 'json';
    if (format !== 'json' && format !== 'sparkplug' && format !== 'both') {
      console.error(`--format must be json, sparkplug or both, not "${format}"\n\n${usage}`);
      return 2;
    }

    const closers: (() => Promise<void>)[] = [];
    const close = async () => {
      for (const closer of closers.reverse()) await closer().catch((error) => console.error(String(error)));
    };
    let mqttUrl = (values['mqtt-url'] as string | undefined) ?? config.MQTT_URL;
    let broker: EmbeddedBroker | undefined;
    try {
      if (mqttUrl === undefined) {
        broker = await startEmbeddedBroker({ port: config.MQTT_EMBEDDED_PORT });
        closers.push(() => broker!.close());
        mqttUrl = broker.url;
        console.log(`[simulator] embedded MQTT broker at ${mqttUrl}`);
      }
      let finished: Promise<void> = new Promise<void>(() => {});
      if (typeof values.replay === 'string') {
        const replay = await startReplay({
          mqttUrl,
          file: values.replay,
          intervalMs: intervalMs ?? config.SIMULATOR_INTERVAL_MS,
          speed: speed ?? 1,
          loop: values.loop === true,
          transpose: values.transpose === true,
          ...(typeof values['tag-prefix'] === 'string' ? { tagPrefix: values['tag-prefix'] } : {}),
          ...(typeof values.columns === 'string'
            ? { columns: values.columns.split(',').map((name) => name.trim()) }
            : {}),
        });
        closers.push(() => replay.stop());
        finished = replay.done;
      } else {
        const scenario = await resolveScenario((values.scenario as string | undefined) ?? config.SIMULATOR_SCENARIO);
        const seed = values.seed === undefined ? undefined : Number(values.seed);
        let opcua: SimulatorOpcuaServer | undefined;
        if (values['no-opcua'] !== true) {
          const signals = createPlant({ scenario, seed: 1, intervalMs: 1000, startTime: new Date() }).signals;
          opcua = await startOpcuaServer({
            port: Number(values['opcua-port'] ?? 4840),
            signals,
            pkiFolder: join(config.ANDON_DATA_DIR, 'opcua-pki', 'simulator'),
          });
          closers.push(() => opcua!.close());
          console.log(`[simulator] OPC UA server at ${opcua.endpointUrl} (node ids ns=1;s=<tag>)`);
        }
        let sparkplugCodec: Awaited<ReturnType<typeof loadSparkplugCodec>> | undefined;
        if (format !== 'json') {
          sparkplugCodec = await loadSparkplugCodec();
          if (!sparkplugCodec.ok) throw sparkplugCodec.error;
        }
        const simulator = await startSimulator({
          mqttUrl,
          scenario,
          intervalMs: intervalMs ?? config.SIMULATOR_INTERVAL_MS,
          speed: speed ?? 1,
          format,
          ...(sparkplugCodec?.ok ? { sparkplugCodec: sparkplugCodec.value } : {}),
          ...(seed === undefined || Number.isNaN(seed) ? {} : { seed }),
          ...(samples === undefined ? {} : { maxSamples: samples }),
          ...(opcua === undefined ? {} : { onSample: (sample) => opcua!.publish(sample) }),
        });
        closers.push(() => simulator.stop());
        if (samples !== undefined) {
          finished = (async () => {
            while (simulator.samples() < samples) await new Promise((resolve) => setTimeout(resolve, 50));
          })();
        }
      }
      const signal = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await Promise.race([signal, finished]);
      return 0;
    } finally {
      await close();
    }
  },
};
