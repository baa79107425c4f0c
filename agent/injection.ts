import type { RetrievedPassage } from '../core/index.ts';

/**
 * Phrases that read like instructions to an AI agent rather than content of a plant document. Retrieved text is data;
 * a match does not change what the agent may do (nothing can), it is flagged so a reviewer sees it.
 */
const patterns: RegExp[] = [
  /\bignore (all |any |the )?(previous|prior|above|earlier) (instructions|rules|prompts?)\b/i,
  /\bdisregard (all |any |the )?(previous|prior|above|system) (instructions|rules|prompt)\b/i,
  /\byou are now\b/i,
  /\b(system|developer) prompt\b/i,
  /\b(as an|you are an?) (ai|assistant|language model)\b/i,
  /\b(auto(matically)?[- ]?approve|approve (this|the) (lot|release|action|request) (now|immediately|without))\b/i,
  /\bexecute (the following|this) (command|action|tool)\b/i,
  /\bdo not (tell|inform|notify) (the )?(user|reviewer|quality|anyone)\b/i,
  /<\/?(system|instructions?|tool|assistant)>/i,
];

export interface InjectionFinding {
  chunkId: string;
  title: string;
  excerpt: string;
  /** The whole passage, to recognise its words if a proposal repeats them. */
  text: string;
}

/** Passages that contain instruction-like text. */
export function findInjections(passages: RetrievedPassage[]): InjectionFinding[] {
  const findings: InjectionFinding[] = [];
  for (const passage of passages) {
    for (const pattern of patterns) {
      const match = pattern.exec(passage.text);
      if (!match) continue;
      const start = Math.max(0, match.index - 40);
      findings.push({
        chunkId: passage.citation.chunkId,
        title: passage.citation.title,
        excerpt: passage.text
          .slice(start, match.index + match[0].length + 40)
          .replaceAll(/\s+/g, ' ')
          .trim(),
        text: passage.text,
      });
      break;
    }
  }
  return findings;
}

/** The flag a draft carries for each finding. */
export const injectionFlag = (finding: InjectionFinding): string =>
  `Retrieved text in "${finding.title}" reads like instructions to the agent ("${finding.excerpt.slice(0, 160)}"); it was treated as data and changed nothing.`;

const SHINGLE = 5;
const words = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

/** True when a proposal's text repeats five or more consecutive words of a flagged passage. */
export function repeatsInjection(text: string, findings: InjectionFinding[]): boolean {
  const proposal = ` ${words(text).join(' ')} `;
  return findings.some((finding) => {
    const passage = words(finding.text);
    for (let index = 0; index + SHINGLE <= passage.length; index += 1) {
      if (proposal.includes(` ${passage.slice(index, index + SHINGLE).join(' ')} `)) return true;
    }
    return false;
  });
}
