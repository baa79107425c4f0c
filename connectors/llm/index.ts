export {
  createOpenAiChatModel,
  createOpenAiLlm,
  type OpenAiLlmOptions,
  type StructuredMethod,
} from './openai.ts';
