import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import {
  type Approval,
  actionDefinitions,
  type Case,
  type Citation,
  type Deviation,
  type Draft,
  type KnowledgePort,
  type LlmUsage,
  type Reading,
  type RetrievedPassage,
  type SignalHistoryPort,
  TagId,
} from '../core/index.ts';
import { citeQuote } from './citations.ts';
import { findInjections, injectionFlag } from './injection.ts';
import { CASE_CHAT_PROMPT_VERSION, caseChatSystem, fenceSource } from './prompts/case-chat.ts';

/** Who asks: an andon user (from the web session, or a Slack user mapped to one). */
export interface ChatUser {
  id: string;
  displayName: string;
  roles: string[];
  kind: string;
}

export interface ChatQuestion {
  question: string;
  caseId: string | null;
  user: ChatUser;
}

export interface ChatAnswer {
  text: string;
  citations: Citation[];
  /** Shown under the answer: "Offline answer …" or the model's name. */
  label: string;
  mode: 'offline' | 'llm';
  /** Removed citations, tool failures, instruction-like sources: what a reader should know about this answer. */
  flags: string[];
  /** The draft version an edit the agent proposed became (it needs a signed approval by someone else). */
  proposedEdit: { version: number } | null;
  usage: LlmUsage | null;
  promptVersion?: string;
}

export interface ChatOptions {
  /** Receives the answer so far while it is written, so one message can be updated progressively. */
  onText?: (textSoFar: string) => Promise<void> | void;
}

/** The read-only chat about cases. */
export interface CaseChat {
  readonly mode: 'offline' | 'llm';
  answer(question: ChatQuestion, options?: ChatOptions): Promise<ChatAnswer>;
}

/** What the chat reads about a case. */
export interface ChatCaseReader {
  get(caseId: string): Promise<Case | null>;
  deviations(caseId: string): Promise<Deviation[]>;
  latestDraft(caseId: string): Promise<{ draft: Draft; recordHash: string } | null>;
  approvals(caseId: string): Promise<Approval[]>;
}

/** Turns an edit the agent proposes into a new draft version authored by the person who asked (server/edits.ts). */
export interface ChatDraftEditor {
  propose(input: { caseId: string; user: ChatUser; summary: string; comment: string }): Promise<{ version: number }>;
}

export interface CaseChatDeps {
  knowledge: KnowledgePort;
  cases: ChatCaseReader;
  signals: SignalHistoryPort;
  /** A tool-calling chat model (connectors/llm `createOpenAiChatModel`); without it the chat answers offline. */
  model?: BaseChatModel | undefined;
  modelName?: string | undefined;
  editor?: ChatDraftEditor | undefined;
  /** Tool rounds before the model must answer. Default 4. */
  maxToolRounds?: number;
  /** USD per million tokens, for the cost of an answer. */
  pricePerMillionInput?: number | undefined;
  pricePerMillionOutput?: number | undefined;
  now?: () => Date;
}

const OFFLINE_LABEL = 'Offline answer (no language model configured): quoted from the case and the knowledge base';
const has = (question: string, pattern: RegExp) => pattern.test(question.toLowerCase());
const round = (value: number) => Number(value.toPrecision(5));

/** Statistics of a signal window, in a sentence with figures. */
export function describeSignal(tag: string, readings: Reading[]): string {
  const good = readings.filter((reading) => reading.quality === 'good' && Number.isFinite(reading.value));
  if (good.length === 0) return `${tag}: no good readings in the window.`;
  const values = good.map((reading) => reading.value);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const sd = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1));
  return `${tag}: ${good.length} readings from ${good[0]!.sourceTime} to ${good.at(-1)!.sourceTime}; mean ${round(mean)}, sd ${round(sd)}, min ${round(Math.min(...values))}, max ${round(Math.max(...values))}, last ${round(values.at(-1)!)}.`;
}

/** Deviations of a case in one line each, with the detector, rule, value and limits. */
const describeDeviations = (deviations: Deviation[]) =>
  deviations
    .slice(0, 10)
    .map(
      (deviation) =>
        `${deviation.detectedAt} ${deviation.tag}: ${deviation.detector}/${deviation.rule} (${deviation.severity}) value ${round(deviation.value)}, limits ${deviation.limits.lower ?? '-'} … ${deviation.limits.upper ?? '-'} around ${deviation.limits.center ?? '-'}: ${deviation.message}`,
    );

/**
 * The read-only chat. With a tool-calling model it answers through LangChain tool calling (case evidence, signal
 * history, knowledge search, and proposing a draft edit); without one it answers offline from the case, its draft,
 * its signals and the knowledge base, labelled "Offline answer". Either way every citation is checked against what was
 * retrieved for this answer (verbatim quotes only), retrieved text is fenced data, and nothing is approved or executed.
 */
export function createCaseChat(deps: CaseChatDeps): CaseChat {
  const offline = createOfflineChat(deps);
  if (!deps.model?.bindTools) return offline;
  const model = deps.model;
  const modelName = deps.modelName ?? 'language model';
  return {
    mode: 'llm',
    async answer(question, options = {}) {
      try {
        return await answerWithTools(deps, model, modelName, question, options);
      } catch (error) {
        // The model failed after its retries (429, 5xx, timeout): the person still gets the offline answer.
        const fallback = await offline.answer(question, options);
        return {
          ...fallback,
          flags: [
            `The language model failed (${((error as Error).message ?? String(error)).slice(0, 200)}); this is the offline answer.`,
            ...fallback.flags,
          ],
        };
      }
    },
  };
}

/** Sources retrieved for one answer, labelled S1, S2, …; citations may point only at these. */
function createSources() {
  const list: Array<{ label: string; passage: RetrievedPassage }> = [];
  return {
    list,
    add(passage: RetrievedPassage): string {
      const known = list.find((item) => item.passage.citation.chunkId === passage.citation.chunkId);
      if (known) {
        // the same chunk found again with more of its text (a draft cites a quote; a search returns the chunk)
        if (passage.text.length > known.passage.text.length) known.passage = passage;
        return known.label;
      }
      const label = `S${list.length + 1}`;
      list.push({ label, passage });
      return label;
    },
    get: (label: string) => list.find((item) => item.label === label)?.passage ?? null,
  };
}

const citationPassage = (citation: Citation, kind = 'draft citation'): RetrievedPassage => ({
  citation,
  text: citation.quote,
  score: 1,
  kind,
  metadata: {},
});

/**
 * Replace the model's [S3: "quote"] and [S3] marks by numbered citations that were verified: the source must have
 * been retrieved for this answer and the quote must appear in it verbatim. Anything else is removed and counted.
 */
export function verifyAnswerCitations(
  text: string,
  sources: { get(label: string): RetrievedPassage | null },
): { text: string; citations: Citation[]; removed: number } {
  const citations: Citation[] = [];
  let removed = 0;
  const number = (citation: Citation) => {
    const known = citations.findIndex((item) => item.chunkId === citation.chunkId && item.quote === citation.quote);
    if (known >= 0) return known + 1;
    citations.push(citation);
    return citations.length;
  };
  const out = text.replace(/\[(S\d+)(?::\s*[“"]([^”"]+)[”"])?\]/g, (_, label: string, quote?: string) => {
    const passage = sources.get(label);
    if (!passage) {
      removed += 1;
      return '';
    }
    if (quote === undefined) return `[${number(passage.citation)}]`;
    const citation = citeQuote(passage, quote);
    if (!citation) {
      removed += 1;
      return '';
    }
    return `“${quote}” [${number(citation)}]`;
  });
  return { text: out.replaceAll(/ {2,}/g, ' ').trim(), citations, removed };
}

const contentText = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part) => (typeof part === 'string' ? part : ((part as { text?: string }).text ?? ''))).join('')
      : '';

/** The parts of LangChain's AIMessage the loop reads. */
type ModelReply = BaseMessage & {
  content: unknown;
  text: string;
  tool_calls?: Array<{ id?: string; name: string; args: Record<string, unknown> }>;
  tool_call_chunks?: unknown[];
  invalid_tool_calls?: Array<{ id?: string; name?: string; error?: string }>;
  usage_metadata?: { input_tokens?: number; output_tokens?: number };
};

async function answerWithTools(
  deps: CaseChatDeps,
  model: BaseChatModel,
  modelName: string,
  question: ChatQuestion,
  options: ChatOptions,
): Promise<ChatAnswer> {
  const sources = createSources();
  const flags: string[] = [];
  const progress: string[] = [];
  let proposedEdit: { version: number } | null = null;
  const caseId = question.caseId;
  const fence = (passages: RetrievedPassage[]) =>
    passages
      .map((passage) =>
        fenceSource(
          sources.add(passage),
          [passage.citation.title, passage.citation.section].filter(Boolean).join(' · '),
          passage.text,
        ),
      )
      .join('\n');
  let lastStreamed = 0;
  const streamed = async (partial: string) => {
    // at most one update per 40 characters: Slack rate-limits chat.update
    if (partial.length - lastStreamed < 40) return;
    lastStreamed = partial.length;
    await options.onText?.(partial.replaceAll(/\[S\d+(?::\s*[“"][^”"]*[”"]?)?\]?/g, '').trim());
  };
  const note = async (line: string) => {
    progress.push(line);
    await options.onText?.(progress.map((item) => `_${item}_`).join('\n'));
  };

  const caseEvidence = tool(
    async () => {
      if (!caseId) return 'No case is named in this conversation; ask the person which case (CASE-…) they mean.';
      const found = await deps.cases.get(caseId);
      if (!found) return `Case ${caseId} does not exist.`;
      await note(`Reading the evidence of ${caseId}…`);
      const deviations = await deps.cases.deviations(caseId);
      const stored = await deps.cases.latestDraft(caseId);
      const approvals = await deps.cases.approvals(caseId);
      const draft = stored?.draft;
      const cited = draft
        ? [
            ...draft.hypotheses.flatMap((item) => item.citations),
            ...draft.capa.containment.flatMap((item) => item.citations),
          ]
        : [];
      return [
        `Case ${found.id}: ${found.title}. Status ${found.status}, severity ${found.severity}. Context: ${JSON.stringify(found.context)}.`,
        `Deviations:\n${describeDeviations(deviations).join('\n') || '(none)'}`,
        draft
          ? [
              `Current draft v${draft.version} (${draft.source}${draft.source === 'offline' ? ', offline draft' : ''}): ${draft.summary}`,
              `Hypotheses:\n${draft.hypotheses.map((item, index) => `${index + 1}. ${item.statement} [${item.category}, ${Math.round(item.confidence * 100)}%]`).join('\n')}`,
              `Proposed actions (they run only after a signed approval):\n${draft.actions.map((action) => `- ${actionDefinitions[action.type].title}: ${action.reason}`).join('\n') || '(none)'}`,
              `Flags: ${draft.flags.join(' | ') || '(none)'}`,
            ].join('\n')
          : 'No draft yet.',
        approvals.length > 0
          ? `Decisions: ${approvals.map((item) => `v${item.draftVersion} ${item.decision} by ${item.signature.printedName} at ${item.signature.signedAt}`).join('; ')}`
          : 'No signed decision yet.',
        cited.length > 0
          ? `Sources the draft cites:\n${fence(cited.map((citation) => citationPassage(citation)))}`
          : '',
      ]
        .filter(Boolean)
        .join('\n\n');
    },
    {
      name: 'case_evidence',
      description:
        'The case this conversation is about: status, deviations with detector, rule, value and limits, the current draft (hypotheses, CAPA, proposed actions), signed decisions and the sources the draft cites.',
      schema: z.object({}),
    },
  );

  const signalHistory = tool(
    async ({ tag, minutes }) => {
      await note(`Reading ${minutes} minutes of ${tag}…`);
      const to = (deps.now ?? (() => new Date()))();
      const readings = await deps.signals.window(tag, new Date(to.getTime() - minutes * 60_000), to, 5000);
      return describeSignal(tag, readings);
    },
    {
      name: 'signal_history',
      description: 'Statistics (count, mean, sd, min, max, last value) of one plant signal over the last minutes.',
      schema: z.object({
        tag: TagId.describe('the signal tag, e.g. line1.seal_temperature'),
        minutes: z
          .number()
          .int()
          .min(1)
          .max(7 * 24 * 60)
          .describe('how many minutes back from now'),
      }),
    },
  );

  const searchKnowledge = tool(
    async ({ query }) => {
      await note(`Searching the knowledge base for “${query.slice(0, 80)}”…`);
      const hits = await deps.knowledge.search(query, { limit: 5 });
      const passages = hits.map((hit) => ({ ...hit }));
      for (const finding of findInjections(passages)) flags.push(injectionFlag(finding));
      return hits.length > 0 ? fence(passages) : 'Nothing found.';
    },
    {
      name: 'search_knowledge',
      description: 'Search SOPs, troubleshooting tables and past incidents. Returns fenced sources to cite as [S#].',
      schema: z.object({ query: z.string().min(2).max(500) }),
    },
  );

  const proposeEdit = tool(
    async ({ summary, comment }) => {
      if (!deps.editor) return 'Editing drafts is not available here; the person can edit the draft on the case page.';
      if (!caseId) return 'No case is named; nothing was changed.';
      await note('Saving the proposed edit as a new draft version…');
      try {
        const saved = await deps.editor.propose({ caseId, user: question.user, summary, comment });
        proposedEdit = saved;
        return `Saved as draft v${saved.version}, authored by ${question.user.displayName}. It needs a signed approval by someone else; nothing was approved or executed.`;
      } catch (error) {
        return `The edit was not saved: ${(error as Error).message}`;
      }
    },
    {
      name: 'propose_draft_edit',
      description:
        'Propose a new summary for the case draft when the person asks to change it. It becomes a new draft version that someone else must sign; it approves and executes nothing.',
      schema: z.object({ summary: z.string().min(1).max(4000), comment: z.string().max(1000) }),
    },
  );

  const tools = [caseEvidence, signalHistory, searchKnowledge, proposeEdit];
  const byName = new Map<string, { invoke(call: unknown): Promise<ToolMessage> }>(
    tools.map((item) => [item.name, item as unknown as { invoke(call: unknown): Promise<ToolMessage> }]),
  );
  const bound = model.bindTools!(tools);
  const messages: BaseMessage[] = [
    new SystemMessage(caseChatSystem),
    new HumanMessage(
      `${caseId ? `This conversation is about case ${caseId}.` : 'No case is named.'} ${question.user.displayName} (${question.user.roles.join(', ') || 'no role'}) asks:\n${question.question}`,
    ),
  ];
  const usage = { calls: 0, input: 0, output: 0 };
  const maxRounds = deps.maxToolRounds ?? 4;
  let final: string | null = null;
  for (let roundIndex = 0; roundIndex <= maxRounds && final === null; roundIndex += 1) {
    // Streamed, so a long answer grows in one message while the model writes it (citation marks are shown only
    // once verified, in the final text).
    let reply: (ModelReply & { concat(chunk: unknown): ModelReply }) | undefined;
    for await (const chunk of await bound.stream(messages)) {
      reply = (reply ? reply.concat(chunk) : chunk) as unknown as typeof reply;
      const partial = contentText(reply!.content);
      if (partial && (reply!.tool_call_chunks?.length ?? 0) === 0) await streamed(partial);
    }
    if (!reply) throw new Error('The model sent an empty stream.');
    usage.calls += 1;
    usage.input += reply.usage_metadata?.input_tokens ?? 0;
    usage.output += reply.usage_metadata?.output_tokens ?? 0;
    messages.push(reply);
    const calls = reply.tool_calls ?? [];
    const invalid = reply.invalid_tool_calls ?? [];
    if (calls.length === 0 && invalid.length === 0) {
      final = contentText(reply.content);
      break;
    }
    if (roundIndex === maxRounds) break;
    for (const call of invalid) {
      flags.push(`The model sent a malformed call of ${call.name ?? 'a tool'}; it was refused.`);
      messages.push(
        new ToolMessage({
          tool_call_id: call.id ?? 'invalid',
          content: `Refused: the arguments were not valid JSON (${call.error ?? 'parse error'}). Call the tool again with JSON arguments.`,
        }),
      );
    }
    for (const call of calls) {
      const found = byName.get(call.name);
      if (!found) {
        flags.push(`The model asked for a tool that does not exist (${call.name}); refused.`);
        messages.push(
          new ToolMessage({
            tool_call_id: call.id ?? call.name,
            content: `No tool named ${call.name}. Available: ${[...byName.keys()].join(', ')}.`,
          }),
        );
        continue;
      }
      try {
        messages.push(await found.invoke({ ...call, type: 'tool_call' }));
      } catch (error) {
        messages.push(
          new ToolMessage({
            tool_call_id: call.id ?? call.name,
            content: `The ${call.name} arguments were refused: ${(error as Error).message.slice(0, 300)}`,
          }),
        );
      }
    }
  }
  const costUsd =
    deps.pricePerMillionInput === undefined || deps.pricePerMillionOutput === undefined
      ? null
      : (usage.input * deps.pricePerMillionInput + usage.output * deps.pricePerMillionOutput) / 1_000_000;
  const used: LlmUsage = { calls: usage.calls, inputTokens: usage.input, outputTokens: usage.output, costUsd };
  if (final === null) {
    flags.push(`The model did not answer within ${maxRounds} tool rounds.`);
    final = 'I could not finish looking this up. Ask a narrower question, or open the case page.';
  }
  const verified = verifyAnswerCitations(final, sources);
  if (verified.removed > 0)
    flags.push(
      `Removed ${verified.removed} citation(s) that did not quote a source retrieved for this answer verbatim.`,
    );
  const text = verified.text || '(The model gave an empty answer.)';
  await options.onText?.(text);
  return {
    text,
    citations: verified.citations,
    label: `Answer by ${modelName} (read-only: it cannot approve or execute)`,
    mode: 'llm',
    flags: [...new Set(flags)],
    proposedEdit,
    usage: used,
    promptVersion: CASE_CHAT_PROMPT_VERSION,
  };
}

/**
 * The offline chat: it answers from the case (status, deviations, the current draft's hypotheses, CAPA and proposed
 * actions), the case's signals and passages the knowledge base retrieves for the question, quoting them with numbered
 * citations. Labelled "Offline answer" so nobody mistakes it for a model's reasoning. It cannot act or edit.
 */
function createOfflineChat(deps: CaseChatDeps): CaseChat {
  return {
    mode: 'offline',
    async answer(question, options = {}) {
      const citations: Citation[] = [];
      const cite = (citation: Citation) => {
        const known = citations.findIndex((item) => item.chunkId === citation.chunkId);
        if (known >= 0) return known + 1;
        citations.push(citation);
        return citations.length;
      };
      const paragraphs: string[] = [];
      const flags: string[] = [];
      const emit = async (paragraph: string) => {
        paragraphs.push(paragraph);
        await options.onText?.(paragraphs.join('\n\n'));
      };
      const asked = question.question.trim();
      const item = question.caseId ? await deps.cases.get(question.caseId) : null;
      const stored = item ? await deps.cases.latestDraft(item.id) : null;
      if (question.caseId && !item) await emit(`I cannot find case ${question.caseId}.`);
      if (item) {
        const approvals = await deps.cases.approvals(item.id);
        const last = approvals.at(-1);
        await emit(
          `*${item.id}* is *${item.status.replaceAll('_', ' ')}* (${item.severity}): ${stored?.draft.summary ?? item.title}${
            last
              ? ` Version ${last.draftVersion} was ${last.decision === 'approve' ? 'approved' : 'rejected'} by ${last.signature.printedName}.`
              : ''
          }`,
        );
        const deviations = await deps.cases.deviations(item.id);
        if (has(asked, /\b(signal|reading|value|trend|limit|temperature|pressure|data|evidence|chart|detector)/)) {
          const to = (deps.now ?? (() => new Date()))();
          const from = new Date(
            Math.min(
              to.getTime() - 3_600_000,
              ...deviations.map((deviation) => Date.parse(deviation.detectedAt) - 1_800_000),
            ),
          );
          const tags = [...new Set(deviations.map((deviation) => deviation.tag))].slice(0, 5);
          const lines = await Promise.all(
            tags.map(async (tag) => describeSignal(tag, await deps.signals.window(tag, from, to, 5000))),
          );
          await emit(['*Evidence*', ...describeDeviations(deviations), ...lines].join('\n'));
        }
      }
      if (has(asked, /\b(edit|change|rewrite|replace|update)\b.*\b(draft|summary|capa|hypothes)/)) {
        await emit(
          'Offline I cannot write an edit for you. Edit the draft on the case page; the edit becomes a new version that someone else must sign.',
        );
      }
      if (stored) {
        const draft = stored.draft;
        const wantsActions = has(asked, /\b(action|hold|lot|work order|approve|sign|next|do)\b/);
        const wantsCapa = has(asked, /\b(capa|contain|containment|corrective|preventive|8d|effective)/);
        const wantsCause = has(asked, /\b(why|cause|root|hypothes|reason|explain)/) || (!wantsActions && !wantsCapa);
        if (wantsCause && draft.hypotheses.length > 0) {
          await emit(
            [
              '*Hypotheses in the current draft*',
              ...draft.hypotheses.slice(0, 3).map((hypothesis, index) => {
                const marks = hypothesis.citations.slice(0, 2).map((citation) => `[${cite(citation)}]`);
                return `${index + 1}. ${hypothesis.statement} (${Math.round(hypothesis.confidence * 100)}%) ${marks.join('')}`;
              }),
            ].join('\n'),
          );
        }
        if (wantsActions) {
          await emit(
            draft.actions.length === 0
              ? 'The draft proposes no actions.'
              : [
                  `*Proposed actions* (they run only after a signed approval; I cannot approve or run anything)`,
                  ...draft.actions.map((action) => `• ${actionDefinitions[action.type].title}: ${action.reason}`),
                ].join('\n'),
          );
        }
        if (wantsCapa) {
          const items = [...draft.capa.containment, ...draft.capa.corrective, ...draft.capa.preventive].slice(0, 5);
          await emit(
            [
              '*CAPA plan*',
              ...items.map(
                (capa) => `• ${capa.text}${capa.citations.map((citation) => ` [${cite(citation)}]`).join('')}`,
              ),
            ].join('\n'),
          );
        }
      }
      const query = [asked, item?.title ?? ''].join(' ').trim();
      const hits = query ? await deps.knowledge.search(query, { limit: 3 }) : [];
      const injections = findInjections(hits);
      for (const finding of injections) flags.push(injectionFlag(finding));
      const clean = hits.filter((hit) => !injections.some((finding) => finding.chunkId === hit.citation.chunkId));
      if (clean.length > 0) {
        await emit(
          [
            '*From the knowledge base*',
            ...clean.map(
              (hit) =>
                `> “${hit.citation.quote.slice(0, 300)}” [${cite(hit.citation)}] — _${hit.citation.title}${hit.citation.section ? `, ${hit.citation.section}` : ''}_`,
            ),
          ].join('\n'),
        );
      }
      if (paragraphs.length === 0) {
        await emit(
          'I found nothing on that in the knowledge base. Ask in a case’s thread, or name a case (CASE-…), and I answer from its draft and the SOPs.',
        );
      }
      return {
        text: paragraphs.join('\n\n'),
        citations,
        label: OFFLINE_LABEL,
        mode: 'offline',
        flags,
        proposedEdit: null,
        usage: null,
      };
    },
  };
}
