/**
 * Detection configuration (YAML on disk, validated here with zod; the caller parses the YAML text). A config without a
 * `detectors` section means the default bank: univariate detectors per tag plus PCA T²/SPE over all variables.
 * `models` holds what calibration estimated, with where each limit came from.
 */
import { z } from 'zod';
import type { BankOptions, DetectorSettings } from './bank-settings.ts';
import { MONITOR_FAMILIES, type MonitorModel, type MonitorOptions } from './monitor.ts';
import { SHEWHART_RULES } from './shewhart.ts';

const off = z.literal(false);
const positive = z.number().positive();

export const DetectorSettingsSchema = z
  .object({
    shewhart: z
      .union([off, z.object({ L: positive.optional(), rules: z.array(z.enum(SHEWHART_RULES)).optional() }).strict()])
      .optional()
      .describe('Shewhart individuals chart; rules: we1-we4 (Western Electric), nelson1-nelson8'),
    xbarR: z
      .union([
        off,
        z
          .object({
            subgroupSize: z.number().int().min(2).max(25).optional(),
            rules: z.array(z.enum(SHEWHART_RULES)).optional(),
          })
          .strict(),
      ])
      .optional()
      .describe(
        'X-bar/R charts over consecutive subgroups of readings (off unless set); rules run on the X-bar series',
      ),
    ewma: z
      .union([off, z.object({ lambda: z.number().gt(0).lte(1).optional(), L: positive.optional() }).strict()])
      .optional()
      .describe('EWMA chart with exact time-varying limits'),
    cusum: z
      .union([
        off,
        z
          .object({
            k: z.number().min(0).optional(),
            h: positive.optional(),
            fastInitialResponse: z.boolean().optional(),
          })
          .strict(),
      ])
      .optional()
      .describe('Two-sided tabular CUSUM, k and h in sigmas'),
    pageHinkley: z
      .union([off, z.object({ delta: z.number().min(0).optional(), threshold: positive.optional() }).strict()])
      .optional()
      .describe('Page-Hinkley drift test, delta and threshold in sigmas (off unless set)'),
    robustZ: z
      .union([off, z.object({ window: z.number().int().min(5).optional(), threshold: positive.optional() }).strict()])
      .optional()
      .describe('Median/MAD robust z-score over a window (off unless set)'),
    flatline: z.union([off, z.object({ samples: z.number().int().min(2).optional() }).strict()]).optional(),
    rateOfChange: z
      .union([off, z.object({ sigmas: positive.optional(), maxPerSecond: positive.optional() }).strict()])
      .optional(),
    missingData: z
      .union([off, z.object({ multiple: positive.optional(), expectedIntervalSeconds: positive.optional() }).strict()])
      .optional(),
    badQuality: z
      .union([
        off,
        z
          .object({ window: z.number().int().min(1).max(32).optional(), share: z.number().min(0).max(1).optional() })
          .strict(),
      ])
      .optional(),
    specification: z.object({ lower: z.number().optional(), upper: z.number().optional() }).strict().optional(),
  })
  .strict();

export const TagSettingsSchema = DetectorSettingsSchema.extend({
  area: z.string().optional(),
  asset: z.string().optional(),
});

export const MultivariateSettingsSchema = z
  .object({
    lambda: z.number().gt(0).lte(1).optional(),
    pca: z
      .union([
        off,
        z
          .object({
            components: positive.optional().describe('retained components, or the fraction of variance (0-1)'),
            lags: z
              .number()
              .int()
              .min(0)
              .max(10)
              .optional()
              .describe('dynamic PCA: past samples stacked beside the current one'),
            alpha: z.number().gt(0).lt(1).optional(),
          })
          .strict(),
      ])
      .optional(),
    families: z.array(z.enum(MONITOR_FAMILIES)).optional(),
    persistence: z
      .object({ k: z.number().int().min(1), n: z.number().int().min(1).max(31) })
      .strict()
      .optional(),
    margin: positive.optional(),
    folds: z.number().int().min(1).optional(),
    familyQuantile: z.number().gt(0).lt(1).optional(),
  })
  .strict();

export const DetectorsSchema = DetectorSettingsSchema.extend({
  calibrationSamples: z.number().int().min(2).optional(),
  windowSize: z.number().int().min(1).max(2000).optional(),
  groups: z.array(z.object({ match: z.string().min(1), settings: TagSettingsSchema }).strict()).optional(),
  tags: z.record(z.string(), TagSettingsSchema).optional(),
  multivariate: z
    .union([off, MultivariateSettingsSchema])
    .optional()
    .describe('false disables PCA T²/SPE over all variables'),
});

export const TagModelSchema = z
  .object({
    mean: z.number(),
    sigma: z.number().positive(),
    expectedIntervalSeconds: z.number().positive().optional(),
    samples: z.number().int().min(0).optional(),
    source: z.string().optional().describe('where the limits came from'),
  })
  .strict();

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/** A fitted PCA model as stored by `andon calibrate`. */
const PcaModelSchema = z.looseObject({
  variables: z.number().int().min(1),
  lags: z.number().int().min(0),
  mean: z.array(finite),
  scale: z.array(z.number().positive()),
  components: z.number().int().min(1),
  loadings: z.array(finite),
  eigenvalues: z.array(z.number().min(0)),
  samples: z.number().int().min(1),
  alpha: z.number().gt(0).lt(1),
  t2Limit: z.number().positive(),
  speLimit: z.number().min(0),
  theta1: z.number().min(0),
});

/**
 * A fitted multivariate monitor as stored by `andon calibrate`; checked so that a hand-edited or truncated file fails
 * with the field that is wrong instead of scoring nonsense. Unknown fields are kept (newer versions add some).
 */
export const MonitorModelSchema = z
  .looseObject({
    variables: z.array(z.string().min(1)).min(1),
    mean: z.array(finite),
    scale: z.array(z.number().positive()),
    phi: z.array(z.number().min(-1).lt(1)),
    transforms: z
      .array(z.object({ lambda: finite, center: finite, scale: z.number().positive() }).nullable())
      .optional(),
    longRunVariance: z.array(z.number().positive()).optional(),
    cusumReference: z.array(z.number().positive()).optional(),
    pca: PcaModelSchema.nullable(),
    lambda: z.number().gt(0).lte(1),
    families: z.array(z.enum(MONITOR_FAMILIES)).min(1),
    norms: z.record(z.enum(MONITOR_FAMILIES), z.number().positive()),
    threshold: z.number().positive(),
    persistence: z.object({ k: z.number().int().min(1), n: z.number().int().min(1).max(31) }),
    calibration: z.looseObject({ samples: z.number().int().min(1), source: z.string() }),
  })
  .superRefine((model, context) => {
    const p = model.variables.length;
    for (const key of ['mean', 'scale', 'phi', 'transforms', 'longRunVariance', 'cusumReference'] as const) {
      const values = model[key];
      if (values !== undefined && values.length !== p)
        context.addIssue({ code: 'custom', path: [key], message: `has ${values.length} entries for ${p} variables` });
    }
    for (const family of model.families)
      if (model.norms[family] === undefined)
        context.addIssue({ code: 'custom', path: ['norms', family], message: 'is missing for an enabled family' });
    if (model.pca && model.pca.variables !== p)
      context.addIssue({ code: 'custom', path: ['pca', 'variables'], message: `is ${model.pca.variables}, not ${p}` });
    if (model.pca && model.pca.loadings.length !== model.pca.variables * (model.pca.lags + 1) * model.pca.components)
      context.addIssue({ code: 'custom', path: ['pca', 'loadings'], message: 'does not match variables × components' });
  });

export const DetectionConfig = z
  .object({
    version: z.literal(1).default(1),
    detectors: DetectorsSchema.optional(),
    models: z
      .object({
        tags: z.record(z.string(), TagModelSchema).default({}),
        multivariate: z
          .array(
            z.object({
              name: z.string().min(1),
              model: MonitorModelSchema.transform((model) => model as unknown as MonitorModel),
            }),
          )
          .default([]),
      })
      .optional(),
  })
  .strict();
export type DetectionConfig = z.infer<typeof DetectionConfig>;

/** JSON Schema of the detection config, for editor completion of detectors.yaml. */
export function detectionConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(DetectionConfig, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}

const strip = <T extends object>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Bank options for a validated config: detector settings plus the calibrated models. */
export function bankOptionsFromConfig(config: DetectionConfig): BankOptions {
  const detectors = config.detectors ?? {};
  const { multivariate: _multivariate, ...rest } = detectors;
  const options = strip(rest) as BankOptions;
  const models = config.models;
  const result: BankOptions = { ...options };
  if (models?.tags) result.models = strip(models.tags) as NonNullable<BankOptions['models']>;
  if (models?.multivariate?.length)
    result.multivariate = models.multivariate.map((group) => ({ name: group.name, model: group.model }));
  return result;
}

/** Monitor options for a validated config (used by calibration and backtests). */
export function monitorOptionsFromConfig(config: DetectionConfig | undefined): MonitorOptions {
  const multivariate = config?.detectors?.multivariate;
  if (multivariate === false) return { pca: false, families: ['ewma', 'variance', 'shewhart'] };
  return strip(multivariate ?? {}) as MonitorOptions;
}

export type { DetectorSettings };
