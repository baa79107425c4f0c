import type { Deviation, ProductionContext, Reading } from '../core/index.ts';
import type { DetectorBank } from '../detection/index.ts';
import type { CaseStore, ReadingStore } from '../store/index.ts';

export interface PipelineDeps {
  readings: ReadingStore;
  cases: CaseStore;
  bank: DetectorBank;
  /** Called when a deviation opened a new case; triage starts there. */
  onCaseOpened(caseId: string): void;
  log(line: string): void;
}

export interface PipelineStats {
  readings: number;
  deviations: number;
  casesOpened: number;
}

/**
 * The path of a reading: store it, score it with the detectors, and turn each deviation into a case (or add it to the
 * related open case). Production context (product, lot, order) arrives per line and goes onto the cases it opens.
 */
export function createPipeline(deps: PipelineDeps) {
  const contexts = new Map<string, ProductionContext & { scope: string }>();
  const stats: PipelineStats = { readings: 0, deviations: 0, casesOpened: 0 };
  const contextFor = (tag: string): ProductionContext => {
    let best: (ProductionContext & { scope: string }) | undefined;
    for (const [scope, context] of contexts) {
      if ((tag === scope || tag.startsWith(`${scope}.`)) && (!best || scope.length > best.scope.length)) best = context;
    }
    if (!best) return {};
    const { scope, ...context } = best;
    return { ...context, line: scope };
  };
  return {
    stats: () => ({ ...stats }),
    setContext(context: { scope: string; product: string; lot: string; order: string }) {
      contexts.set(context.scope, {
        scope: context.scope,
        product: context.product,
        lot: context.lot,
        order: context.order,
      });
    },
    async onReadings(batch: Reading[]): Promise<void> {
      await deps.readings.insert(batch);
      stats.readings += batch.length;
      const found: Deviation[] = [];
      for (const reading of batch) for (const deviation of deps.bank.step(reading)) found.push(deviation);
      for (const deviation of found) {
        stats.deviations += 1;
        const recorded = await deps.cases.recordDeviation(deviation, contextFor(deviation.tag));
        if (recorded.opened) {
          stats.casesOpened += 1;
          deps.log(`case ${recorded.caseId} opened: ${deviation.tag} ${deviation.detector}/${deviation.rule}`);
          deps.onCaseOpened(recorded.caseId);
        }
      }
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
