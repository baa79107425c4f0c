import type { ScenarioInput } from '../../simulator/index.ts';

/**
 * The packaging line's two incidents used by the pipeline and Slack replays: a seal-temperature drift at sample 60, then
 * a four-signal line upset at sample 200 (a flood in one area). One fault each, so each must open exactly one case.
 */
export const driftThenUpset = (name: string): ScenarioInput => ({
  name,
  seed: 3,
  equipment: ['packaging-line'],
  omit: ['packaging.line1.reject_count'],
  faults: [
    {
      kind: 'drift',
      tag: 'packaging.line1.seal_temperature',
      startSample: 60,
      durationSamples: 20,
      magnitude: 0.3,
    },
    ...(
      [
        ['packaging.line1.seal_temperature', 8],
        ['packaging.line1.seal_pressure', 8],
        ['packaging.line1.cycle_time', 8],
        ['packaging.line1.film_tension', -8],
      ] as const
    ).map(([tag, magnitude]) => ({
      kind: 'step' as const,
      tag,
      startSample: 200,
      durationSamples: 20,
      magnitude,
    })),
  ],
});
