export {
  type BrowseOptions,
  browseOpcuaVariables,
  type OpcuaVariable,
  opcuaTagConfigYaml,
  openOpcuaSession,
} from './browse.ts';
export {
  Deadband,
  loadOpcuaTagConfig,
  OpcuaAuth,
  type OpcuaDeadLetter,
  type OpcuaHealthEvent,
  OpcuaSecurity,
  OpcuaTag,
  OpcuaTagConfig,
  type OpcuaTagInput,
  qualityFromStatusCode,
  SecurityMode as OpcuaSecurityMode,
  SecurityPolicy as OpcuaSecurityPolicy,
} from './config.ts';
export { type OpcuaIngest, type OpcuaIngestOptions, type OpcuaIngestStats, startOpcuaIngest } from './ingest.ts';
