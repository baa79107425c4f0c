export {
  type Chunk,
  type ChunkOptions,
  chunkDocument,
  formatHeading,
  type SectionHeading,
  sectionLabel,
} from './chunk.ts';
export { demoSopsDirectory, loadDemoKnowledge } from './demo.ts';
export { cosine, type EmbeddingPurpose, type EmbeddingsPort } from './embed.ts';
export { createOfflineEmbedder, embedOffline, type OfflineEmbedderOptions } from './embed-offline.ts';
export { createOpenAIEmbedder, type OpenAIEmbedderOptions } from './embed-openai.ts';
export { createEmbedder, type EmbedderSettings } from './embedder.ts';
export { ensureEmbeddingModel } from './embedding-index.ts';
export { docxToText, htmlToText, MissingFormatSupport, pdfToText } from './formats.ts';
export {
  type ClosedIncident,
  capaSentences,
  incidentDocument,
  incidentFromCase,
  indexIncident,
} from './incidents.ts';
export {
  type AddOptions,
  addDocument,
  addDocuments,
  contentHash,
  type DocumentDefaults,
  embeddingText,
  type IngestSummary,
  ingestSources,
  parseJsonl,
  parseTextDocument,
  readSource,
  type SourceFailure,
  supportedFormats,
} from './ingest.ts';
export {
  type ChunkView,
  createKnowledgeBase,
  type DocumentDetail,
  type KnowledgeAuditEvent,
  type KnowledgeBase,
  type KnowledgeBaseOptions,
  type ListOptions,
} from './knowledge-base.ts';
export { type ReembedResult, reembed } from './reembed.ts';
export { type HitScores, type SearchHit, type SearchMode, type SearchOptions, searchKnowledge } from './search.ts';
export {
  type AddResult,
  DocumentInput,
  DocumentKind,
  DocumentStatus,
  type KnowledgeDocument,
} from './types.ts';
