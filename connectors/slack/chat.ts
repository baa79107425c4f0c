import { actionDefinitions, type Citation, type KnowledgePort } from '../../core/index.ts';
import type { ChatAnswer, ChatPort, ChatQuestion, SlackCaseReader } from './ports.ts';

const has = (question: string, pattern: RegExp) => pattern.test(question.toLowerCase());

/**
 * The read-only chat without a language model: it answers from the case's current draft (hypotheses, CAPA, proposed
 * actions, status) and from passages the knowledge base retrieves for the question, quoting them with numbered
 * citations. Labelled "Offline answer" so nobody mistakes it for a model's reasoning. It cannot act.
 */
export function createRetrievalChat(deps: {
  knowledge: KnowledgePort;
  cases: Pick<SlackCaseReader, 'get' | 'latestDraft' | 'approvals'>;
}): ChatPort {
  return {
    async answer(question: ChatQuestion, options = {}): Promise<ChatAnswer> {
      const citations: Citation[] = [];
      const cite = (citation: Citation) => {
        const known = citations.findIndex((item) => item.chunkId === citation.chunkId);
        if (known >= 0) return known + 1;
        citations.push(citation);
        return citations.length;
      };
      const paragraphs: string[] = [];
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
      if (hits.length > 0) {
        await emit(
          [
            '*From the knowledge base*',
            ...hits.map(
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
        label: 'Offline answer (no language model configured): quoted from the draft and the knowledge base',
      };
    },
  };
}
