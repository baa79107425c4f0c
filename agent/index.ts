export * from './chat.ts';
export * from './citations.ts';
export * from './injection.ts';
export * from './llm-drafter.ts';
export * from './offline-drafter.ts';
export { CASE_CHAT_PROMPT_VERSION } from './prompts/case-chat.ts';
export { TRIAGE_DRAFT_PROMPT_VERSION } from './prompts/triage-draft.ts';
export * from './taxonomy.ts';
export * from './troubleshooting.ts';
