import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { checkScaleOutConfig } from './scale-out-config.ts';

describe('scale-out settings', () => {
  it('leaves the single-process default alone', () => {
    expect(() => checkScaleOutConfig(loadConfig({}))).not.toThrow();
  });

  it('refuses a worker without a shared database and broker, naming each variable', () => {
    const config = loadConfig({ ANDON_PARTITIONS: '8' });
    expect(() => checkScaleOutConfig(config)).toThrow(/DATABASE_URL is unset.*MQTT_URL is unset.*SIMULATOR is on/);
  });

  it('accepts a worker of a real plant', () => {
    const config = loadConfig({
      ANDON_PARTITIONS: '8',
      DATABASE_URL: 'postgres://andon@db/andon',
      MQTT_URL: 'mqtt://broker:1883',
      SIMULATOR: 'false',
    });
    expect(() => checkScaleOutConfig(config)).not.toThrow();
    expect(config.ANDON_LEASE_SECONDS).toBe(15);
  });

  it('rejects a partition count that is not a whole number from 1 to 1024', () => {
    expect(() => loadConfig({ ANDON_PARTITIONS: '0' })).toThrow(/ANDON_PARTITIONS/);
    expect(() => loadConfig({ ANDON_PARTITIONS: 'many' })).toThrow(/ANDON_PARTITIONS/);
  });
});
