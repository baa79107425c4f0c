import type { AlarmStore } from '../../store/index.ts';

/** A knowledge-base document as the citation view needs it (the knowledge base's `show` satisfies this). */
export interface CitedDocument {
  id: string;
  title: string;
  documentNumber: string | null;
  revision: string | null;
  status: string;
  kind: string;
  text: string;
  chunkList: Array<{ chunkId: string; section: string; sectionPath: string[]; start: number; end: number }>;
}

/** Where the citation view reads documents: structurally the knowledge base (server/ never imports knowledge/). */
export interface KnowledgeSource {
  show(idOrNumber: string): Promise<CitedDocument | null>;
}

/** What the overview reads about alarms. */
export type AlarmSource = Pick<AlarmStore, 'list' | 'report'>;
