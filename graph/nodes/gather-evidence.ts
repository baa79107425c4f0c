import type { Evidence, KnowledgeHit, Reading, RetrievedPassage, SignalSummary } from '../../core/index.ts';
import { AndonError } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/** Minutes of signal history before the first deviation that the evidence covers. */
const LOOKBACK_MINUTES = 30;

export function summariseSignal(tag: string, readings: Reading[]): SignalSummary {
  const good = readings.filter((reading) => reading.quality === 'good' && Number.isFinite(reading.value));
  if (good.length === 0) {
    return {
      tag,
      samples: 0,
      mean: null,
      stdev: null,
      min: null,
      max: null,
      slopePerMinute: null,
      first: null,
      last: null,
    };
  }
  const values = good.map((reading) => reading.value);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1);
  const t0 = Date.parse(good[0]!.sourceTime);
  const minutes = good.map((reading) => (Date.parse(reading.sourceTime) - t0) / 60_000);
  const meanT = minutes.reduce((sum, value) => sum + value, 0) / minutes.length;
  let sxy = 0;
  let sxx = 0;
  minutes.forEach((t, index) => {
    sxy += (t - meanT) * (values[index]! - mean);
    sxx += (t - meanT) ** 2;
  });
  return {
    tag,
    samples: good.length,
    mean,
    stdev: Math.sqrt(variance),
    min: Math.min(...values),
    max: Math.max(...values),
    slopePerMinute: sxx > 0 ? sxy / sxx : null,
    first: good[0]!.sourceTime,
    last: good.at(-1)!.sourceTime,
  };
}

const toPassage = (hit: KnowledgeHit): RetrievedPassage => ({
  citation: hit.citation,
  text: hit.text,
  score: hit.score,
  kind: hit.kind,
  metadata: hit.metadata,
});

/** The words a search for this case starts from: the tags, their direction and the detectors' messages. */
export function caseQuery(state: {
  title: string;
  description?: string;
  deviations: { tag: string; message: string }[];
}): string {
  if (state.description && state.deviations.length === 0) return state.description.slice(0, 2000);
  const parts = state.deviations
    .slice(0, 5)
    .map((deviation) => `${deviation.tag.replaceAll(/[._/:-]/g, ' ')} ${deviation.message}`);
  return (parts.length > 0 ? parts.join('. ') : state.title).slice(0, 1000);
}

/** Gather evidence: signal statistics, the relevant SOP sections and similar past incidents. Reads only. */
export const makeGatherEvidence =
  ({ cases, signals, knowledge, clock }: Pick<TriagePorts, 'cases' | 'signals' | 'knowledge' | 'clock'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const found = await cases.get(state.caseId);
    if (!found) throw new AndonError('not_found', `Case ${state.caseId} does not exist.`);
    const deviations = await cases.deviations(state.caseId);
    const first = deviations[0] ? new Date(deviations[0].detectedAt) : new Date(found.createdAt);
    const from = new Date(first.getTime() - LOOKBACK_MINUTES * 60_000);
    const to = clock.now();
    const tags = [...new Set(deviations.map((deviation) => deviation.tag))];
    const summaries = await Promise.all(
      tags.map(async (tag) => summariseSignal(tag, await signals.window(tag, from, to))),
    );
    const query = caseQuery({ title: found.title, description: found.description, deviations });
    const filterFor = (kind: string) => ({ kind });
    const [sops, troubleshooting, incidents, ...sections] = await Promise.all([
      knowledge.search(query, { limit: 8, filter: filterFor('sop') }),
      knowledge.search(query, { limit: 5, filter: filterFor('troubleshooting') }),
      knowledge.search(query, { limit: 10, filter: filterFor('incident') }),
      ...[
        'containment',
        'root cause investigation',
        'corrective action',
        'preventive action',
        'effectiveness verification',
      ].map((section) => knowledge.search(`${section} ${query}`, { limit: 3, filter: filterFor('sop') })),
    ]);
    const seen = new Set<string>();
    const passages = [...troubleshooting, ...sops, ...sections.flat()].filter((hit) => {
      if (seen.has(hit.citation.chunkId)) return false;
      seen.add(hit.citation.chunkId);
      return true;
    });
    const evidence: Evidence = {
      query,
      signals: summaries,
      sops: passages.map(toPassage),
      incidents: incidents.map(toPassage),
    };
    return { evidence, error: null };
  };
