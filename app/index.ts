/** Public surface of app/ for benchmarks and tools: configuration, the composition root and the reading pipeline. */

export { helpText, main } from './cli.ts';
export { type Config, environment, environmentNames, loadConfig, publicUrl } from './config.ts';
export {
  type AlarmControl,
  createPipeline,
  createSandboxAssetHistory,
  type Pipeline,
  type PipelineDeps,
  type PipelineNotice,
  type PipelineStats,
} from './pipeline.ts';
export { type Andon, openStores, type StartOptions, type Stores, startAndon, systemClock } from './runtime.ts';
