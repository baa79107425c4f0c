import type { TriageStatus } from '../../graph/index.ts';
import { Badge } from '../pages/layout.tsx';

const time = (iso: string) => iso.replace('T', ' ').slice(0, 19);
const figure = (value: number | null, digits = 3) => (value === null ? '–' : value.toFixed(digits));

const VERDICTS = {
  effective: 'Effective: the deviation is gone',
  not_effective: 'Not effective: the deviation is still there',
  insufficient_data: 'Insufficient data to judge',
} as const;

/**
 * The effectiveness check the triage graph records after an action (GET /api/v1/cases/:id: triage.effectiveness):
 * "scheduled for <time>" while pending, then the verdict with its figures per signal. All text goes through JSX,
 * which escapes it.
 */
export function EffectivenessCheck(props: { effectiveness: TriageStatus['effectiveness'] | undefined }) {
  const check = props.effectiveness;
  if (!check)
    return (
      <p class="muted">
        No effectiveness check is scheduled for this case (one is, once an action has been carried out).
      </p>
    );
  const result = check.result;
  if (!result)
    return (
      <p class="effectiveness scheduled">
        Round {check.round}: scheduled for {time(check.dueAt)} UTC (acted on {time(check.actedAt)} UTC).
      </p>
    );
  return (
    <div class="effectiveness">
      <p>
        <Badge value={result.verdict} /> <strong>{VERDICTS[result.verdict]}</strong> · round {check.round}, due{' '}
        {time(check.dueAt)} UTC, checked {time(result.checkedAt)} UTC on the readings from {time(result.from)} to{' '}
        {time(result.to)} UTC.
      </p>
      <p>{result.summary}</p>
      {result.signals.length > 0 ? (
        <table>
          <caption class="sr-only">Effectiveness check per signal</caption>
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col">Verdict</th>
              <th scope="col" class="num">
                Samples after
              </th>
              <th scope="col" class="num">
                Mean after
              </th>
              <th scope="col" class="num">
                Center ± sigma
              </th>
              <th scope="col" class="num">
                Shift (σ)
              </th>
              <th scope="col">Alarms after</th>
            </tr>
          </thead>
          <tbody>
            {result.signals.map((signal) => (
              <tr>
                <td>{signal.tag}</td>
                <td>
                  <Badge value={signal.verdict} />
                </td>
                <td class="num">
                  {signal.samplesAfter} (baseline {signal.baselineSamples})
                </td>
                <td class="num">{figure(signal.meanAfter)}</td>
                <td class="num">
                  {figure(signal.center)} ± {figure(signal.sigma)}
                </td>
                <td class="num">{figure(signal.shiftSigmas, 2)}</td>
                <td>
                  {signal.alarms.length === 0
                    ? `none (${signal.detectors.join(', ') || 'no detector'})`
                    : signal.alarms.map((alarm) => `${alarm.detector}/${alarm.rule} at ${time(alarm.at)}`).join('; ')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
