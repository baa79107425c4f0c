import { z } from 'zod';

export const DocumentKind = z.enum(['sop', 'work-instruction', 'manual', 'incident', 'troubleshooting']);
export type DocumentKind = z.infer<typeof DocumentKind>;

export const DocumentStatus = z.enum(['draft', 'effective', 'superseded', 'obsolete']);
export type DocumentStatus = z.infer<typeof DocumentStatus>;

/** What `addDocument` takes: the text plus what a document control system knows about it. */
export const DocumentInput = z.object({
  text: z.string().min(1, 'document text is empty'),
  title: z.string().min(1).max(500),
  kind: DocumentKind,
  /** E.g. "SOP-QA-012". Revisions of the same number supersede each other. */
  documentNumber: z.string().min(1).max(200).optional(),
  revision: z.string().min(1).max(50).optional(),
  effectiveDate: z.iso.date().optional(),
  /** Default `effective`. */
  status: DocumentStatus.optional(),
  plant: z.string().min(1).max(200).optional(),
  line: z.string().min(1).max(200).optional(),
  asset: z.string().min(1).max(200).optional(),
  productFamily: z.string().min(1).max(200).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** Where it came from: a file path or URL. */
  sourceUri: z.string().max(2000).optional(),
  /**
   * Lineage key when there is no document number (a JSONL id, a file name). Revisions share it.
   * Defaults to the document number, else the source URI, else the title.
   */
  key: z.string().min(1).max(500).optional(),
});
export type DocumentInput = z.infer<typeof DocumentInput>;

/** A document as stored (without its text). */
export interface KnowledgeDocument {
  id: string;
  key: string;
  documentNumber: string | null;
  title: string;
  revision: string | null;
  effectiveDate: string | null;
  status: DocumentStatus;
  kind: DocumentKind;
  plant: string | null;
  line: string | null;
  asset: string | null;
  productFamily: string | null;
  metadata: Record<string, unknown>;
  contentHash: string;
  sourceUri: string | null;
  supersededBy: string | null;
  createdAt: string;
  chunks: number;
}

export interface AddResult {
  /** `added`: stored; `duplicate`: identical content of this document was already there (no-op). */
  outcome: 'added' | 'duplicate';
  documentId: string;
  key: string;
  chunks: number;
  /** Ids of the revisions this one superseded. */
  superseded: string[];
}
