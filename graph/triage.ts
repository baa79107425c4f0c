import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { Command } from '@langchain/langgraph';
import { buildTriageGraph } from './build.ts';
import type { EffectivenessResult } from './effectiveness.ts';
import type { TriagePorts } from './ports.ts';
import type { EffectivenessDue, EffectivenessState, GateDecision } from './state.ts';

export interface TriageStatus {
  /** Nodes the thread will run next; `['approval_gate']` while it waits for a decision. */
  next: string[];
  waitingForDecision: boolean;
  /** True while the thread waits for its scheduled effectiveness check. */
  waitingForEffectiveness: boolean;
  draftVersion: number;
  outcome: string | null;
  error: string | null;
  effectiveness: (Omit<EffectivenessState, 'result'> & { result: EffectivenessResult | null }) | null;
}

const threadOf = (caseId: string) => ({ configurable: { thread_id: `case:${caseId}` } });

/**
 * Runs one triage thread per case on the checkpointer. Work on one case is serialised in this process; across
 * processes the checkpoint is the source of truth.
 */
export function createTriage(ports: TriagePorts, checkpointer: BaseCheckpointSaver) {
  const graph = buildTriageGraph(ports, checkpointer);
  const running = new Map<string, Promise<unknown>>();
  const exclusive = <T>(caseId: string, work: () => Promise<T>): Promise<T> => {
    const previous = running.get(caseId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    running.set(caseId, next);
    void next
      .finally(() => {
        if (running.get(caseId) === next) running.delete(caseId);
      })
      .catch(() => {});
    return next;
  };

  const status = async (caseId: string): Promise<TriageStatus | null> => {
    const snapshot = await graph.getState(threadOf(caseId));
    if (!snapshot.config?.configurable?.checkpoint_id && snapshot.next.length === 0 && !snapshot.values?.caseId)
      return null;
    const values = snapshot.values as Partial<{
      draftVersion: number;
      outcome: string | null;
      error: string | null;
      effectiveness: EffectivenessState | null;
    }>;
    return {
      next: [...snapshot.next],
      waitingForDecision: snapshot.next.includes('approval_gate'),
      waitingForEffectiveness: snapshot.next.includes('effectiveness_gate'),
      draftVersion: values.draftVersion ?? 0,
      outcome: values.outcome ?? null,
      error: values.error ?? null,
      effectiveness: values.effectiveness ?? null,
    };
  };

  return {
    graph,
    status,
    /** Start triage of a new case; returns when the graph waits at the approval gate or ends. */
    start: (caseId: string) =>
      exclusive(caseId, async () => {
        const current = await status(caseId);
        if (current && (current.next.length > 0 || current.outcome)) return current;
        await graph.invoke({ caseId }, threadOf(caseId));
        return (await status(caseId))!;
      }),
    /** Hand a signed decision to the waiting gate. */
    resume: (caseId: string, decision: GateDecision) =>
      exclusive(caseId, async () => {
        const current = await status(caseId);
        if (!current?.waitingForDecision) return current;
        await graph.invoke(new Command({ resume: decision }), threadOf(caseId));
        return (await status(caseId))!;
      }),
    /** The scheduled effectiveness check of `round` fell due: wake the waiting thread so it runs the check. */
    checkEffectiveness: (caseId: string, round: number) =>
      exclusive(caseId, async () => {
        const current = await status(caseId);
        if (!current?.waitingForEffectiveness || current.effectiveness?.round !== round) return current;
        const due: EffectivenessDue = { due: 'effectiveness_check', round };
        await graph.invoke(new Command({ resume: due }), threadOf(caseId));
        return (await status(caseId))!;
      }),
    /** Continue a thread that stopped mid-way (a crash between two steps); a thread that waits stays waiting. */
    continue: (caseId: string) =>
      exclusive(caseId, async () => {
        const current = await status(caseId);
        if (!current || current.waitingForDecision || current.waitingForEffectiveness || current.next.length === 0)
          return current;
        await graph.invoke(null, threadOf(caseId));
        return (await status(caseId))!;
      }),
  };
}

export type Triage = ReturnType<typeof createTriage>;
