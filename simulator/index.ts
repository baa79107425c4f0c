export {
  connectPublisher,
  readingMessage,
  resolveScenario,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
  tagTopic,
} from './mqtt-simulator.ts';
export { type OpcuaServerOptions, type SimulatorOpcuaServer, startOpcuaServer } from './opcua-server.ts';
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
export { createSparkplugPublisher, type SparkplugPublisherOptions } from './sparkplug-publisher.ts';
