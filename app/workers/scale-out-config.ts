import { AndonError } from '../../core/index.ts';
import type { Config } from '../config.ts';

/**
 * With ANDON_PARTITIONS set, `andon start` is one of several workers of a plant. Refuse the settings that cannot be
 * shared between processes, naming the variable and what to do, before anything starts.
 */
export function checkScaleOutConfig(config: Config): void {
  if (config.ANDON_PARTITIONS === undefined) return;
  const problems: string[] = [];
  if (!config.DATABASE_URL)
    problems.push('DATABASE_URL is unset: the workers share one PostgreSQL (the embedded PGlite serves one process)');
  if (!config.MQTT_URL)
    problems.push('MQTT_URL is unset: the workers share one MQTT 5 broker (the embedded broker serves one process)');
  if (config.SIMULATOR)
    problems.push(
      'SIMULATOR is on: the simulator publishes unpartitioned topics; set SIMULATOR=false and publish under <prefix>/partition/<n>/',
    );
  if (config.OPCUA_CONFIG)
    problems.push('OPCUA_CONFIG is set: an OPC UA gateway should publish to the partitioned MQTT topics instead');
  if (config.MQTT_SPARKPLUG === 'true')
    problems.push('MQTT_SPARKPLUG=true: Sparkplug B topics carry no partition; bridge them to partitioned topics');
  if (config.MQTT_TOPICS)
    problems.push('MQTT_TOPICS is set: each worker subscribes to the partitions it holds; unset MQTT_TOPICS');
  if (problems.length > 0)
    throw new AndonError(
      'invalid_config',
      `ANDON_PARTITIONS=${config.ANDON_PARTITIONS} runs andon as a scale-out worker, but ${problems.join('; ')} (docs/scale-out.md).`,
    );
}
