import { type CaseChat, createCaseChat } from '../agent/index.ts';
import { createOpenAiChatModel } from '../connectors/llm/index.ts';
import { AndonError, type AuditPort, type KnowledgePort } from '../core/index.ts';
import type { Triage } from '../graph/index.ts';
import { editDraft } from '../server/index.ts';
import type { ApprovalStore, CaseStore, DraftStore, ReadingStore, UserStore } from '../store/index.ts';
import type { Config } from './config.ts';

export interface ChatWiringDeps {
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
  readings: ReadingStore;
  users: UserStore;
  audit: AuditPort;
  knowledge: KnowledgePort;
  triage: Triage;
}

/**
 * The read-only case chat for the web and Slack: tool calling through the configured OpenAI-compatible model when
 * OPENAI_BASE_URL is set, the offline answer otherwise. An edit it proposes goes through `editDraft` as the person who
 * asked (so it needs an editor role, and that person cannot sign the new version).
 */
export function createChatFromConfig(config: Config, deps: ChatWiringDeps): CaseChat {
  return createCaseChat({
    knowledge: deps.knowledge,
    signals: deps.readings,
    cases: {
      get: (id) => deps.cases.get(id),
      deviations: (id) => deps.cases.deviations(id),
      latestDraft: (id) => deps.drafts.latestStored(id),
      approvals: (id) => deps.approvals.forCase(id),
    },
    model: config.OPENAI_BASE_URL
      ? createOpenAiChatModel({
          baseUrl: config.OPENAI_BASE_URL,
          apiKey: config.OPENAI_API_KEY,
          model: config.OPENAI_MODEL,
          timeoutMs: config.OPENAI_TIMEOUT_MS,
          maxRetries: config.OPENAI_MAX_RETRIES,
        })
      : undefined,
    modelName: config.OPENAI_MODEL,
    pricePerMillionInput: config.OPENAI_PRICE_INPUT_PER_MTOK,
    pricePerMillionOutput: config.OPENAI_PRICE_OUTPUT_PER_MTOK,
    editor: {
      async propose(input) {
        const user = await deps.users.byId(input.user.id);
        if (!user) throw new AndonError('forbidden', 'Only a signed-in andon user can propose an edit.');
        const edited = await editDraft(deps, {
          caseId: input.caseId,
          user,
          edit: { summary: input.summary, comment: `Proposed in chat: ${input.comment}`.slice(0, 4000) },
        });
        return { version: edited.draft.version };
      },
    },
  });
}
