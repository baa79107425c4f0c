// Behaviour the knowledge base must have on every backend: run by knowledge.test.ts (PGlite) and
// knowledge.int.test.ts (PostgreSQL + pgvector).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../store/index.ts';
import { loadDemoKnowledge } from './demo.ts';
import { createOfflineEmbedder } from './embed-offline.ts';
import { indexIncident } from './incidents.ts';
import { parseJsonl } from './ingest.ts';
import { createKnowledgeBase, type KnowledgeAuditEvent, type KnowledgeBase } from './knowledge-base.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

export function knowledgeContract(name: string, open: () => Promise<Database>): void {
  describe(`knowledge base on ${name}`, () => {
    let db: Database;
    let kb: KnowledgeBase;
    const audit: KnowledgeAuditEvent[] = [];

    beforeAll(async () => {
      db = await open();
      kb = createKnowledgeBase(db, createOfflineEmbedder(), { onAudit: (event) => void audit.push(event) });
      const first = await loadDemoKnowledge(kb);
      expect(first.failures).toEqual([]);
      expect(first.documents).toBe(3);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('loads the demo documents once: a second load is a no-op', async () => {
      const again = await loadDemoKnowledge(kb);
      expect(again).toMatchObject({ documents: 0, chunks: 0, duplicates: 3 });
      expect((await kb.list()).map((document) => document.documentNumber).sort()).toEqual([
        'SOP-QA-012',
        'TS-PK-004',
        'WI-RX-201',
      ]);
    });

    it('finds the seal-temperature drift section for "seal temperature drifting upward"', async () => {
      const hits = await kb.search('seal temperature drifting upward', { limit: 3 });
      expect(hits[0]?.citation.title).toMatch(/TS-PK-004 Heat sealer/);
      expect(hits[0]?.sectionPath.join(' > ')).toMatch(/§ 1 Seal temperature drift/);
      expect(hits[0]?.kind).toBe('troubleshooting');
      expect(hits[0]?.scores.vector).toBeDefined();
      expect(hits[0]?.scores.fullText).toBeDefined();
    });

    it('cites the containment section of SOP-QA-012 with the exact quote', async () => {
      const [hit] = await kb.search('containment: which lots to hold after a deviation', {
        limit: 1,
        filter: { document_number: 'SOP-QA-012' },
      });
      expect(hit?.citation).toMatchObject({
        title: 'SOP-QA-012 Deviation handling and CAPA',
        revision: '3',
        section: '§ 4.2 Containment',
      });
      const document = await kb.show(hit!.citation.documentId);
      expect(document?.text.slice(hit!.citation.start, hit!.citation.end)).toBe(hit!.citation.quote);
    });

    it('every citation resolves to the exact quote in its document', async () => {
      for (const query of [
        'thermocouple drift contact probe',
        'reactor exotherm stop the feed',
        'effectiveness check Cpk',
      ]) {
        for (const hit of await kb.search(query, { limit: 5 })) {
          const document = await kb.show(hit.citation.documentId);
          expect(document?.text.slice(hit.citation.start, hit.citation.end)).toBe(hit.citation.quote);
        }
      }
    });

    it('filters on document fields and free metadata', async () => {
      const reactor = await kb.search('temperature above setpoint', { filter: { asset: 'Batch reactor R-201' } });
      expect(reactor.length).toBeGreaterThan(0);
      expect(reactor.every((hit) => hit.documentNumber === 'WI-RX-201')).toBe(true);
      const none = await kb.search('temperature', { filter: { customer: 'nobody' } });
      expect(none).toEqual([]);
    });

    it('a new revision supersedes the old one; search returns effective revisions unless asked for history', async () => {
      const base = { title: 'WI-PK-010 Film splice', documentNumber: 'WI-PK-010', kind: 'work-instruction' as const };
      const first = await kb.add({
        ...base,
        revision: 'A',
        text: '# WI-PK-010\n\n## 1 Splice\n\nSplice the film with tape type K7 at the splice table.',
      });
      const identical = await kb.add({
        ...base,
        revision: 'A',
        text: '# WI-PK-010\n\n## 1 Splice\n\nSplice the film with tape type K7 at the splice table.',
      });
      expect(first.outcome).toBe('added');
      expect(identical).toMatchObject({ outcome: 'duplicate', documentId: first.documentId, chunks: 0 });

      const second = await kb.add({
        ...base,
        revision: 'B',
        text: '# WI-PK-010\n\n## 1 Splice\n\nSplice the film with the automatic splicer Z9 only.',
      });
      expect(second.superseded).toEqual([first.documentId]);
      const documents = await kb.list({ search: 'WI-PK-010' });
      expect(documents.map((document) => [document.revision, document.status]).sort()).toEqual([
        ['A', 'superseded'],
        ['B', 'effective'],
      ]);

      const current = await kb.search('splice the film', { filter: { document_number: 'WI-PK-010' } });
      expect(current.map((hit) => hit.revision)).toEqual(['B']);
      const history = await kb.search('splice the film', { filter: { document_number: 'WI-PK-010' }, history: true });
      expect(history.map((hit) => hit.revision).sort()).toEqual(['A', 'B']);
    });

    it('ingests JSONL, reporting bad lines with their number', async () => {
      const { documents, failures } = parseJsonl(
        [
          '{"id":"INC-1","text":"Heat sealer HS-101 seal strength low; thermocouple read 6 °C low; replaced.","metadata":{"category":"Thermocouple drift","plant":"Demo Plant"}}',
          'not json',
          '{"id":"INC-2"}',
          '{"id":"INC-3","text":"Reactor R-201 exotherm after cooling water valve stuck.","metadata":{"category":"Cooling failure"}}',
        ].join('\n'),
        'incidents.jsonl',
      );
      expect(failures.map((failure) => failure.line)).toEqual([2, 3]);
      const results = await kb.addMany(documents);
      expect(results.map((result) => result.outcome)).toEqual(['added', 'added']);
      const [hit] = await kb.search('seal strength low thermocouple', { filter: { kind: 'incident' } });
      expect(hit?.metadata).toMatchObject({ category: 'Thermocouple drift', plant: 'Demo Plant', sourceId: 'INC-1' });
      const byCategory = await kb.search('exotherm', { filter: { category: 'Cooling failure' } });
      expect(byCategory.map((found) => found.documentNumber)).toEqual(['INC-3']);
    });

    it('indexes a closed case as an incident; re-indexing it with new content supersedes the old record', async () => {
      const incident = {
        caseId: 'C-7',
        title: 'Seal temperature drift on HS-101',
        signals: ['HS101.JawTemp drifted +6 °C'],
        rootCause: { statement: 'Upper jaw thermocouple read low.', category: 'Thermocouple drift' },
        closedAt: '2024-11-20T10:00:00Z',
      };
      expect((await indexIncident(kb, incident)).outcome).toBe('added');
      expect((await indexIncident(kb, incident)).outcome).toBe('duplicate');
      const updated = await indexIncident(kb, { ...incident, outcome: 'No recurrence in 30 days.' });
      expect(updated.superseded).toHaveLength(1);
      const hits = await kb.search('jaw temperature drift thermocouple', {
        filter: { kind: 'incident', caseId: 'C-7' },
      });
      expect(new Set(hits.map((hit) => hit.documentId))).toEqual(new Set([updated.documentId]));
      expect(hits[0]?.metadata.category).toBe('Thermocouple drift');
    });

    it('re-embeds into another model without ever comparing vectors across models (audited)', async () => {
      const other = createKnowledgeBase(db, createOfflineEmbedder({ dimension: 128 }), {
        onAudit: (event) => void audit.push(event),
      });
      expect(await other.search('seal temperature', { mode: 'vector' })).toEqual([]);
      const result = await other.reembed('qa.lead');
      expect(result.chunks).toBeGreaterThan(0);
      expect(result.to).toBe('andon-hash-ngram-v1-d128');
      expect(audit.at(-1)).toMatchObject({ action: 'knowledge.reembed', actor: 'qa.lead' });
      const [hit] = await other.search('seal temperature drifting upward', { mode: 'vector' });
      expect(hit?.documentNumber).toBe('TS-PK-004');
      // The old model's vectors are gone: its vector search finds nothing, its full-text search still works.
      expect(await kb.search('seal temperature', { mode: 'vector' })).toEqual([]);
      expect((await kb.search('seal temperature', { mode: 'fulltext' })).length).toBeGreaterThan(0);
      await kb.reembed('qa.lead');
    });

    it('ingests PDF and DOCX, fails only the corrupt files, and cites "SOP-CAPA rev 3 § 4.2" word for word', async () => {
      const summary = await kb.ingest([
        fixture('sop-capa-rev3.pdf'),
        fixture('corrupt.pdf'),
        fixture('wi-pk-030.docx'),
        fixture('corrupt.docx'),
      ]);
      expect(summary).toMatchObject({ documents: 2, duplicates: 0 });
      expect(summary.failures.map((failure) => [failure.source, failure.reason.split(' (')[0]])).toEqual([
        [fixture('corrupt.pdf'), 'not a readable PDF'],
        [fixture('corrupt.docx'), 'not a readable DOCX'],
      ]);

      const [containment] = await kb.search('which lots go to the hold cage in quarantine', {
        limit: 1,
        filter: { document_number: 'SOP-CAPA' },
      });
      expect(containment).toMatchObject({ documentNumber: 'SOP-CAPA', revision: '3' });
      expect(containment?.citation.section).toBe('§ 4.2 Containment');
      expect(containment?.sectionPath).toEqual([
        'SOP-CAPA Corrective and preventive action',
        '§ 4 Procedure',
        '§ 4.2 Containment',
      ]);
      const pdf = await kb.show(containment!.documentId);
      expect(pdf?.text.slice(containment!.citation.start, containment!.citation.end)).toBe(containment!.citation.quote);
      expect(containment!.citation.quote).toContain('| Critical | Hold and notify customers | QA manager |');

      const [settings] = await kb.search('jaw temperature and dwell time for PP film', {
        limit: 1,
        filter: { kind: 'sop' },
      });
      expect(settings?.documentNumber).toBe('WI-PK-030');
      expect(settings?.citation.section).toBe('§ 2.2 Settings after the change');
      const docx = await kb.show(settings!.documentId);
      expect(docx?.text.slice(settings!.citation.start, settings!.citation.end)).toBe(settings!.citation.quote);
    });

    it('indexes each embedding model with its own half-precision HNSW index, used by vector search', async () => {
      const indexes = await db.query<{ indexdef: string }>(
        "select indexdef from pg_indexes where tablename = 'knowledge_chunks' and indexname like 'knowledge_chunks_hnsw_%'",
      );
      expect(indexes.rows.length).toBeGreaterThan(0);
      for (const { indexdef } of indexes.rows) {
        expect(indexdef).toMatch(/halfvec_cosine_ops/);
        expect(indexdef).toMatch(/m='?24'?, ef_construction='?128'?/);
        expect(indexdef).toMatch(/WHERE \(embedding_model = '[^']+'::text\)/);
      }
      const plan = await db.transaction(async (client) => {
        await client.query('set local enable_seqscan = off');
        const [vector] = await kb.embedder.embed(['seal temperature'], 'query');
        const literal = `[${vector!.join(',')}]`;
        const result = await client.query<{ 'QUERY PLAN': string }>(
          `explain select id from knowledge_chunks where embedding_model = $1
           order by (embedding::halfvec(512)) <=> $2::halfvec(512) limit 5`,
          [kb.embedder.model, literal],
        );
        return result.rows.map((row) => row['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan using knowledge_chunks_hnsw_/);
    });

    it('walks the HNSW graph with the backend’s beam (PostgreSQL 150, PGlite 100) unless efSearch is given', async () => {
      const beams: unknown[] = [];
      const watched: Database = Object.create(db);
      watched.query = ((text: string, params?: unknown[]) => {
        const slot = /'hnsw\.ef_search', \$(\d+)/.exec(text)?.[1];
        if (slot) beams.push(params?.[Number(slot) - 1]);
        return db.query(text, params);
      }) as Database['query'];
      const watchedKb = createKnowledgeBase(watched, createOfflineEmbedder());
      const hits = await watchedKb.search('seal temperature', { mode: 'vector', limit: 3 });
      expect(hits.length).toBeGreaterThan(0);
      await watchedKb.search('seal temperature', { mode: 'vector', limit: 3, efSearch: 60 });
      expect(beams).toEqual([db.kind === 'pglite' ? '100' : '150', '60']);
    });

    it('a filtered vector search returns the exact top k of the matching chunks, by either path', async () => {
      // Forty short records on four wrappers; the filter keeps one wrapper's ten, of which the search keeps four.
      const parts = ['film tension', 'cutter blade', 'turntable speed', 'photo eye', 'pre-stretch roller'];
      const faults = [
        'slipping',
        'jammed',
        'overheating',
        'misreading',
        'worn out',
        'chattering',
        'stalling',
        'drifting',
      ];
      const records = Array.from({ length: 40 }, (_, index) => ({
        title: `Wrapper record ${index}`,
        kind: 'incident' as const,
        key: `wrapper-record-${index}`,
        asset: `stretch wrapper SW-${index % 4}`,
        text: `The ${parts[index % 5]} of the stretch wrapper was ${faults[(index * 3) % 8]} on shift ${index % 3}; the ${parts[(index + 2) % 5]} was ${faults[(index * 5) % 8]}.`,
      }));
      const added = await kb.addMany(records);
      expect(added.every((result) => result.outcome === 'added')).toBe(true);
      const asset = 'stretch wrapper SW-1';
      const stored = await db.query<{ id: string; embedding: string }>(
        `select c.id::text as id, c.embedding::text as embedding from knowledge_chunks c
         join knowledge_documents d on d.id = c.document_id where d.asset = $1 and c.embedding_model = $2`,
        [asset, kb.embedder.model],
      );
      expect(stored.rows).toHaveLength(10);
      // The chunk counts the filtered search adds up to choose its path are those of the chunks stored.
      const counts = await db.query<{ stale: number }>(
        `select count(*)::integer as stale from knowledge_documents d
         where d.chunk_count <> (select count(*) from knowledge_chunks c where c.document_id = d.id)`,
      );
      expect(counts.rows[0]?.stale).toBe(0);
      const cosineDistance = (a: readonly number[], b: readonly number[]) => {
        let dot = 0;
        let normA = 0;
        let normB = 0;
        a.forEach((value, index) => {
          dot += value * b[index]!;
          normA += value * value;
          normB += b[index]! * b[index]!;
        });
        return 1 - dot / Math.sqrt(normA * normB);
      };
      for (const query of ['cutter blade jammed', 'photo eye misreading on shift 2', 'film slipping', 'roller worn']) {
        const [vector] = await kb.embedder.embed([query], 'query');
        const truth = stored.rows
          .map((row) => ({ id: row.id, distance: cosineDistance(JSON.parse(row.embedding), vector!) }))
          .sort((a, b) => a.distance - b.distance);
        const kth = truth[3]!.distance;
        const exact = await kb.search(query, {
          mode: 'vector',
          dedupe: false,
          limit: 4,
          candidates: 4,
          filter: { asset },
          exact: true,
        });
        // The default (few chunks match: all scored exactly) and the graph walk forced with a limit of 0.
        for (const path of [{}, { exactFilterLimit: 0 }]) {
          const hits = await kb.search(query, {
            mode: 'vector',
            dedupe: false,
            limit: 4,
            candidates: 4,
            filter: { asset },
            ...path,
          });
          expect(hits.map((hit) => hit.chunkId)).toEqual(exact.map((hit) => hit.chunkId));
          expect(hits.every((hit) => hit.metadata.asset === asset)).toBe(true);
          // Each hit is among the true four nearest (half-precision storage rounds distances to about 1e-3).
          for (const hit of hits) {
            const distance = truth.find((row) => row.id === hit.chunkId)!.distance;
            expect(distance).toBeLessThanOrEqual(kth + 2e-3);
            expect(1 - hit.scores.vector!.similarity).toBeCloseTo(distance, 2);
          }
        }
      }
      // Fewer matching chunks than wanted: all of them, nearest first.
      const all = await kb.search('stretch wrapper', { mode: 'vector', dedupe: false, limit: 20, filter: { asset } });
      expect(all).toHaveLength(10);
      const similarities = all.map((hit) => hit.scores.vector!.similarity);
      expect(similarities).toEqual([...similarities].sort((a, b) => b - a));
    });

    it('removes a document with an audit event', async () => {
      const added = await kb.add({ title: 'Scratch note', kind: 'manual', text: 'Temporary note about the labeller.' });
      expect(await kb.remove(added.documentId, 'qa.lead', 'wrong upload')).toBe(true);
      expect(await kb.remove(added.documentId, 'qa.lead')).toBe(false);
      expect(await kb.show(added.documentId)).toBeNull();
      expect(audit.at(-1)).toMatchObject({
        action: 'knowledge.document.remove',
        actor: 'qa.lead',
        details: { reason: 'wrong upload' },
      });
    });
  });
}
