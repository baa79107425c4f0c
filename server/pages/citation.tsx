import type { User } from '../../store/index.ts';
import type { CitedDocument } from '../ui/sources.ts';
import { Badge, Layout } from './layout.tsx';

export interface CitationSpan {
  /** Offsets into the document's source text. */
  chunkStart: number;
  chunkEnd: number;
  quoteStart: number | null;
  quoteEnd: number | null;
}

/**
 * The source of a citation: the document's text with the cited section outlined and the quoted span in <mark>, so a
 * reviewer checks the agent's quote against the controlled document. All text is escaped; nothing of it is markup.
 */
export function CitationPage(props: {
  user: User;
  document: CitedDocument;
  section: { label: string; path: string[] };
  span: CitationSpan;
  warning?: string | undefined;
  /** The case the reader came from, for the way back. */
  caseId?: string | undefined;
}) {
  const { document: doc, span } = props;
  const text = doc.text;
  const quoted = span.quoteStart !== null && span.quoteEnd !== null;
  const before = text.slice(0, span.chunkStart);
  const after = text.slice(span.chunkEnd);
  const chunkParts = quoted
    ? [
        text.slice(span.chunkStart, span.quoteStart!),
        text.slice(span.quoteStart!, span.quoteEnd!),
        text.slice(span.quoteEnd!, span.chunkEnd).replace(/\n+$/, ''),
      ]
    : [text.slice(span.chunkStart, span.chunkEnd).replace(/\n+$/, '')];
  return (
    <Layout title={`${doc.documentNumber ?? doc.title} · citation`} user={props.user}>
      <p>
        {props.caseId ? (
          <a href={`/cases/${encodeURIComponent(props.caseId)}`}>← Back to case {props.caseId}</a>
        ) : (
          <a href="/kb">← Knowledge base</a>
        )}
      </p>
      <h1>{doc.title}</h1>
      <p class="muted">
        {doc.documentNumber ? `${doc.documentNumber} · ` : ''}
        {doc.revision ? `revision ${doc.revision} · ` : ''}
        {doc.kind} · <Badge value={doc.status} />
      </p>
      {doc.status !== 'effective' ? (
        <p class="error" role="alert">
          This revision is {doc.status}, not the effective one. Check the current revision before acting on the quote.
        </p>
      ) : null}
      {props.warning ? (
        <p class="error" role="alert">
          {props.warning}
        </p>
      ) : null}
      <nav aria-label="Section">
        <p>
          Cited section: <strong>{props.section.label || '(untitled section)'}</strong>
          {props.section.path.length > 1 ? <span class="muted"> · {props.section.path.join(' › ')}</span> : null}
        </p>
      </nav>
      <p class="muted">
        {quoted
          ? `The quoted words are highlighted (characters ${span.quoteStart}–${span.quoteEnd} of the document).`
          : 'The whole cited section is shown.'}
      </p>
      <section class="source-text" aria-label="Cited section" id="section">
        <span class="cited">
          {chunkParts.length === 3 ? (
            <>
              {chunkParts[0]}
              <mark id="quote">{chunkParts[1]}</mark>
              {chunkParts[2]}
            </>
          ) : (
            chunkParts[0]
          )}
        </span>
      </section>
      <details class="whole-document">
        <summary>The whole document, with the cited section outlined</summary>
        <section class="source-text" aria-label="Whole document">
          <span class="context">{before.replace(/\n+$/, '')}</span>
          <span class="cited">{chunkParts.join('')}</span>
          <span class="context">{after.replace(/^\n+/, '')}</span>
        </section>
      </details>
    </Layout>
  );
}
