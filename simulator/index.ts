export {
  connectPublisher,
  readingMessage,
  resolveScenario,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  tagTopic,
} from './mqtt-simulator.ts';
export {
  type ContextMessage,
  createPlant,
  equipmentSignals,
  type InjectedFault,
  type Plant,
  type PlantOptions,
  type PlantSample,
  reactorPhases,
  type SignalSpec,
} from './plant.ts';
export { createRandom, type Random } from './random.ts';

import type { OpcuaServerOptions, SimulatorOpcuaServer } from './opcua-server.ts';

export type { OpcuaServerOptions, SimulatorOpcuaServer };

/**
 * Starts the simulator's OPC UA server (see opcua-server.ts). node-opcua loads on first use only: it takes seconds,
 * and a run that only publishes over MQTT never needs it.
 */
export async function startOpcuaServer(options: OpcuaServerOptions): Promise<SimulatorOpcuaServer> {
  const { startOpcuaServer: start } = await import('./opcua-server.ts');
  return start(options);
}
export { parseReplayTable, type Replay, type ReplayOptions, type ReplayTable, startReplay } from './replay.ts';
export {
  type BuiltInScenarioName,
  builtInScenarios,
  Equipment,
  FaultKind,
  FaultSpec,
  loadScenario,
  parseScenario,
  Scenario,
  type ScenarioInput,
  SetpointChange,
} from './scenario.ts';
export {
  createSparkplugPublisher,
  type SparkplugEdgeNode,
  type SparkplugPublisherOptions,
} from './sparkplug-publisher.ts';
