import { describe, expect, it } from 'vitest';
import { createDetectorBank } from './bank.ts';
import { calibrate } from './calibrate.ts';
import {
  bankOptionsFromConfig,
  DetectionConfig,
  detectionConfigJsonSchema,
  monitorOptionsFromConfig,
} from './config.ts';
import { createNormalRandom } from './random.ts';
import { tableFromRows } from './table.ts';

describe('detection config', () => {
  it('validates a config and rejects a misspelt detector with a message naming it', () => {
    const config = DetectionConfig.parse({
      detectors: {
        shewhart: { rules: ['we1', 'we2'] },
        cusum: { k: 0.5, h: 4, fastInitialResponse: true },
        tags: { 'a.b': { specification: { upper: 3 } } },
      },
    });
    expect(config.version).toBe(1);
    const result = DetectionConfig.safeParse({ detectors: { shewart: {} } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(/shewart/);
    expect(DetectionConfig.safeParse({ detectors: { shewhart: { rules: ['we9'] } } }).success).toBe(false);
  });

  it('exports a JSON Schema for editors', () => {
    const schema = detectionConfigJsonSchema();
    expect(schema.type).toBe('object');
    expect(JSON.stringify(schema)).toContain('fastInitialResponse');
  });

  it('calibrates models from history, drops outliers and feeds them to the bank', () => {
    const normal = createNormalRandom(2);
    const rows = Array.from({ length: 300 }, (_, i) => {
      const latent = normal();
      return [50 + latent + (i === 100 ? 30 : 0), 10 + 0.5 * latent + 0.1 * normal(), normal()];
    });
    const { config, report } = calibrate(
      tableFromRows(['t1', 't2', 't3'], rows),
      { version: 1 },
      { source: 'history.csv' },
    );
    expect(report[0]?.dropped).toBeGreaterThanOrEqual(1);
    expect(config.models?.tags.t1?.mean).toBeCloseTo(50, 0);
    expect(config.models?.tags.t1?.source).toMatch(/history\.csv: mean and moving-range sigma/);
    expect(config.models?.multivariate[0]?.model.variables).toEqual(['t1', 't2', 't3']);
    const roundTrip = DetectionConfig.parse(JSON.parse(JSON.stringify(config)));
    const bank = createDetectorBank(bankOptionsFromConfig(roundTrip));
    const [deviation] = bank.step({ tag: 't1', value: 80, sourceTime: '2024-01-01T00:00:00Z', quality: 'good' });
    expect(deviation?.detector).toBe('shewhart');
    expect(monitorOptionsFromConfig({ version: 1, detectors: { multivariate: false } }).pca).toBe(false);
  });
});
