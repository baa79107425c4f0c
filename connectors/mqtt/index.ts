export { createMqttDecoder, type DecodeOutcome, payloadExcerpt } from './decode.ts';
export { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from './embedded-broker.ts';
export {
  brokerName,
  type MqttConnectionEvent,
  type MqttIngest,
  type MqttIngestOptions,
  type MqttIngestStats,
  type MqttTopicDecoder,
  sharedFilter,
  startMqttIngest,
} from './ingest.ts';
export {
  type DeadLetter,
  PayloadTimestamp,
  type ProductionContext,
  ProductionContextPayload,
  ReadingBatchPayload,
  ReadingPayload,
} from './payloads.ts';
export {
  createSparkplugDecoder,
  loadSparkplugCodec,
  type SensorHealthEvent,
  type SparkplugCodec,
  SparkplugMetric,
  type SparkplugOptions,
  SparkplugPayload,
  type SparkplugStats,
  sparkplugTagPart,
} from './sparkplug.ts';
export {
  compileMappings,
  loadTopicMappings,
  matchTopic,
  TopicMapping,
  type TopicMappingInput,
} from './topic-mapping.ts';
