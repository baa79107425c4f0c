import { readdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { extname, join } from 'node:path';
import { AndonError } from '../../core/index.ts';
import {
  createEmbedder,
  createKnowledgeBase,
  type DocumentDefaults,
  DocumentKind,
  DocumentStatus,
  type EmbeddingsPort,
  type KnowledgeBase,
  type SearchHit,
  type SearchMode,
  supportedFormats,
} from '../../knowledge/index.ts';
import { approveChange } from '../../server/index.ts';
import { createPolicySignoffStore } from '../../store/index.ts';
import { loadApprovalPolicy } from '../approval-policy.ts';
import { type Config, loadConfig } from '../config.ts';
import { embedderFromConfig, openStores, type Stores, systemClock } from '../runtime.ts';
import { type CommandValues, parseCommandLine } from './args.ts';
import type { Command } from './command.ts';

const usage = `andon kb <subcommand> [options]

  add PATH...            Ingest files or directories (.md .txt .jsonl .html .pdf .docx); progress on stderr, then a
                         summary: documents, chunks, skipped duplicates, failures with reasons
      [--kind sop|work-instruction|manual|incident|troubleshooting] [--plant P] [--line L] [--asset A]
      [--product-family F] [--status draft|effective|superseded|obsolete] [--revision R] [--document-number N]
  list                   Documents, every revision   [--kind K] [--status S] [--effective] [--search TEXT] [--limit N] [--json]
  show ID|NUMBER         One document: metadata, revisions, chunks   [--text] [--json]
  remove ID              Delete one revision (audited)   [--actor NAME] [--reason TEXT]
  search "QUERY"         Hybrid search   [--filter key=value]... [--limit N] [--mode hybrid|vector|fulltext]
                         [--history] [--mmr] [--explain] [--json]
  reembed                Re-embed every chunk with the configured embedder (audited)   [--actor NAME]

The embedder comes from EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL and EMBEDDINGS_DIMENSIONS (unset: the offline embedder);
--embedder offline forces the offline one.`;

const sharedOptions = {
  embedder: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** The configured embedder, or the offline one with --embedder offline. */
function selectEmbedder(config: Config, values: CommandValues): EmbeddingsPort {
  const choice = values.embedder as string | undefined;
  if (choice === undefined || choice === 'configured') return embedderFromConfig(config);
  if (choice === 'offline') return createEmbedder({ dimension: config.EMBEDDINGS_DIMENSIONS });
  if (choice === 'openai' || choice === 'endpoint') {
    if (!config.EMBEDDINGS_BASE_URL) {
      throw new AndonError('invalid_config', `--embedder ${choice} needs EMBEDDINGS_BASE_URL (and EMBEDDINGS_MODEL).`);
    }
    return embedderFromConfig(config);
  }
  throw new AndonError(
    'bad_request',
    `Unknown embedder "${choice}"; use --embedder offline, or set EMBEDDINGS_BASE_URL.`,
  );
}

const supported = new Set<string>(supportedFormats);

/** Expand directories into the files under them that `kb add` reads (any file named explicitly is tried). */
async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch(() => null);
    if (info?.isDirectory()) {
      const entries = (await readdir(path, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile() && supported.has(extname(entry.name).toLowerCase()))
        .map((entry) => join(entry.parentPath, entry.name))
        .sort();
      files.push(...entries);
    } else {
      files.push(path);
    }
  }
  return files;
}

/** A one-line progress bar on a terminal; occasional plain lines otherwise (CI logs). */
function progressReporter(total: number) {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  return {
    update(filesDone: number, label: string) {
      const ratio = total === 0 ? 1 : filesDone / total;
      if (tty) {
        const width = 30;
        const filled = Math.round(ratio * width);
        process.stderr.write(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${filesDone}/${total} ${label.slice(-50).padEnd(50)}`,
        );
      } else if (Date.now() - lastLine > 2000 || filesDone === total) {
        lastLine = Date.now();
        process.stderr.write(`kb add: ${filesDone}/${total} ${label}\n`);
      }
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

function parseFilters(filters: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const filter of filters) {
    const at = filter.indexOf('=');
    if (at <= 0) throw new AndonError('bad_request', `--filter "${filter}" is not key=value (e.g. --filter kind=sop).`);
    result[filter.slice(0, at)] = filter.slice(at + 1);
  }
  return result;
}

function citationLabel(hit: SearchHit): string {
  const number = hit.documentNumber ?? hit.title;
  const revision = hit.revision ? ` rev ${hit.revision}` : '';
  const section = hit.citation.section ? ` ${hit.citation.section}` : '';
  return `${number}${revision}${section}`;
}

function printHits(hits: SearchHit[], explain: boolean): void {
  if (hits.length === 0) {
    console.log('No matching knowledge.');
    return;
  }
  hits.forEach((hit, index) => {
    console.log(`${index + 1}. ${citationLabel(hit)}  [${hit.kind}, score ${hit.score.toFixed(3)}]`);
    if (hit.documentNumber && hit.title !== hit.documentNumber) console.log(`   ${hit.title}`);
    const quote = hit.citation.quote.replace(/\s+/g, ' ').trim();
    console.log(`   "${quote.length > 300 ? `${quote.slice(0, 297)}…` : quote}"`);
    console.log(`   chars ${hit.citation.start}–${hit.citation.end} of ${hit.documentId}, chunk ${hit.chunkId}`);
    if (explain) {
      const { fused, vector, fullText } = hit.scores;
      const text = fullText ? `rank ${fullText.rank}, score ${fullText.score.toFixed(4)}` : 'no match';
      const vec = vector ? `rank ${vector.rank}, cosine ${vector.similarity.toFixed(4)}` : 'not in candidates';
      console.log(`   explain: full text ${text}; vector ${vec}; fused (RRF) ${fused.toFixed(5)}`);
    }
  });
}

async function withKnowledgeBase<T>(
  values: CommandValues,
  work: (kb: KnowledgeBase, stores: Stores) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const embedder = selectEmbedder(config, values);
  const stores = await openStores(config);
  try {
    const kb = createKnowledgeBase(stores.database, embedder, {
      onAudit: async (event) => {
        await stores.audit.append({
          actor: { kind: 'user', id: event.actor },
          action: event.action,
          subject: event.subject,
          details: event.details,
        });
      },
    });
    return await work(kb, stores);
  } finally {
    await stores.database.close();
  }
}

const defaultActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
};

/** A whole number ≥ 1 from a flag, or a clear error naming the flag. */
function count(name: string, value: unknown): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 10_000) {
    throw new AndonError('bad_request', `--${name} must be a whole number from 1 to 10000, got "${String(value)}".`);
  }
  return number;
}

/** A value of a closed list from a flag, or a clear error listing the choices. */
function choice<T extends string>(name: string, value: unknown, options: readonly T[]): T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T;
  throw new AndonError('bad_request', `--${name} "${String(value)}" is not one of: ${options.join(', ')}.`);
}

const optionalString = (values: CommandValues, name: string): string | undefined =>
  typeof values[name] === 'string' ? (values[name] as string) : undefined;

async function add(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    args,
    {
      ...sharedOptions,
      kind: { type: 'string' },
      plant: { type: 'string' },
      line: { type: 'string' },
      asset: { type: 'string' },
      'product-family': { type: 'string' },
      status: { type: 'string' },
      revision: { type: 'string' },
      'document-number': { type: 'string' },
    },
    usage,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) {
    console.error(`andon kb add needs at least one file or directory.\n\n${usage}`);
    return 2;
  }
  const defaults: DocumentDefaults = {};
  if (values.kind !== undefined) defaults.kind = choice('kind', values.kind, DocumentKind.options);
  if (values.status !== undefined) defaults.status = choice('status', values.status, DocumentStatus.options);
  const text = (name: string) => optionalString(values, name);
  for (const [flag, field] of [
    ['plant', 'plant'],
    ['line', 'line'],
    ['asset', 'asset'],
    ['product-family', 'productFamily'],
    ['revision', 'revision'],
    ['document-number', 'documentNumber'],
  ] as const) {
    const value = text(flag);
    if (value !== undefined) defaults[field] = value;
  }
  const files = await expandPaths(positionals);
  return withKnowledgeBase(values, async (kb) => {
    const progress = progressReporter(files.length);
    const summary = {
      documents: 0,
      chunks: 0,
      duplicates: 0,
      superseded: 0,
      failures: [] as { source: string; line?: number; reason: string }[],
    };
    for (const [index, file] of files.entries()) {
      progress.update(index, file);
      const result = await kb.ingest([file], {
        defaults,
        // Large JSONL files: show how far into the file the ingest is.
        onProgress: ({ done, total }) => progress.update(index, `${file} (${done}/${total} documents)`),
      });
      summary.documents += result.documents;
      summary.chunks += result.chunks;
      summary.duplicates += result.duplicates;
      summary.superseded += result.superseded;
      summary.failures.push(...result.failures);
    }
    progress.update(files.length, 'done');
    progress.done();
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `documents added: ${summary.documents}, chunks: ${summary.chunks}, skipped duplicates: ${summary.duplicates}, superseded revisions: ${summary.superseded}, failures: ${summary.failures.length}`,
      );
      for (const failure of summary.failures.slice(0, 50)) {
        console.log(
          `  failed: ${failure.source}${failure.line === undefined ? '' : `:${failure.line}`}: ${failure.reason}`,
        );
      }
      if (summary.failures.length > 50) console.log(`  … and ${summary.failures.length - 50} more failures`);
    }
    // Partial success is success; only "nothing could be read" is a failure.
    return summary.failures.length > 0 && summary.documents + summary.duplicates === 0 ? 1 : 0;
  });
}

async function list(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    args,
    {
      ...sharedOptions,
      kind: { type: 'string' },
      status: { type: 'string' },
      effective: { type: 'boolean', default: false },
      search: { type: 'string' },
      limit: { type: 'string', default: '100' },
    },
    usage,
  );
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const options = {
    ...(values.kind === undefined ? {} : { kind: choice('kind', values.kind, DocumentKind.options) }),
    ...(values.status === undefined ? {} : { status: choice('status', values.status, DocumentStatus.options) }),
    ...(values.search === undefined ? {} : { search: String(values.search) }),
    effectiveOnly: values.effective === true,
    limit: count('limit', values.limit),
  };
  return withKnowledgeBase(values, async (kb) => {
    const documents = await kb.list(options);
    if (values.json) {
      for (const document of documents) console.log(JSON.stringify(document));
      return 0;
    }
    if (documents.length === 0) console.log('No documents. Add some with `andon kb add PATH`.');
    for (const document of documents) {
      console.log(
        `${document.id}  ${(document.documentNumber ?? '-').padEnd(14)} rev ${(document.revision ?? '-').padEnd(4)} ${document.status.padEnd(10)} ${document.kind.padEnd(16)} ${String(document.chunks).padStart(4)} chunks  ${document.title}`,
      );
    }
    return 0;
  });
}

async function show(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, { ...sharedOptions, text: { type: 'boolean', default: false } }, usage);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const id = positionals[0];
  if (!id || positionals.length > 1) {
    console.error('usage: andon kb show ID|DOCUMENT_NUMBER [--text] [--json]');
    return 2;
  }
  return withKnowledgeBase(values, async (kb) => {
    const document = await kb.show(id);
    if (!document) {
      console.error(`No document "${id}". List them with \`andon kb list\`.`);
      return 1;
    }
    if (values.json) {
      console.log(JSON.stringify(document));
      return 0;
    }
    console.log(`${document.title}`);
    console.log(
      `id ${document.id} · number ${document.documentNumber ?? '-'} · rev ${document.revision ?? '-'} · ${document.status} · ${document.kind}`,
    );
    const place = [document.plant, document.line, document.asset, document.productFamily].filter(Boolean).join(' / ');
    if (place) console.log(`where: ${place}`);
    if (document.effectiveDate) console.log(`effective: ${document.effectiveDate}`);
    if (document.sourceUri) console.log(`source: ${document.sourceUri}`);
    console.log(`revisions: ${document.revisions.map((r) => `${r.revision ?? '-'} (${r.status})`).join(', ')}`);
    console.log(`chunks (${document.chunkList.length}):`);
    for (const chunk of document.chunkList) {
      console.log(
        `  #${chunk.ordinal} ${chunk.section || '(no section)'}  chars ${chunk.start}–${chunk.end}  ${chunk.embeddingModel ?? 'no vector'}`,
      );
    }
    if (values.text) console.log(`\n${document.text}`);
    return 0;
  });
}

async function remove(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    args,
    { ...sharedOptions, actor: { type: 'string' }, reason: { type: 'string' } },
    usage,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const id = positionals[0];
  if (!id || positionals.length > 1) {
    console.error('usage: andon kb remove ID [--actor NAME] [--reason TEXT]');
    return 2;
  }
  return withKnowledgeBase(values, async (kb, stores) => {
    const document = await kb.show(id);
    if (document?.kind === 'sop') {
      // Retiring an SOP follows the approval policy (sop_retire), as in the web UI and the API.
      const actor = optionalString(values, 'actor');
      const user = actor ? await stores.users.byUsername(actor) : null;
      if (!user) {
        console.error(
          `${id} is an SOP: retiring it follows the approval policy. Name the approving andon user: --actor USERNAME.`,
        );
        return 2;
      }
      const outcome = await approveChange(
        {
          users: stores.users,
          signoffs: createPolicySignoffStore(stores.database, systemClock),
          policy: loadApprovalPolicy(loadConfig().APPROVAL_POLICY_FILE),
          audit: stores.audit,
        },
        {
          subject: 'sop_retire',
          subjectId: id,
          risk: 'medium',
          user,
          decision: 'approve',
          comment: optionalString(values, 'reason') ?? '',
          requestedBy: [],
          location: { plant: document.plant, line: document.line },
        },
      );
      if (!outcome.complete) {
        console.log(
          `recorded ${user.username}'s approval to retire ${id} (${outcome.signed} of ${outcome.required}); it is removed when another person approves`,
        );
        return 0;
      }
    }
    const removed = await kb.remove(
      id,
      optionalString(values, 'actor') ?? defaultActor(),
      optionalString(values, 'reason'),
    );
    if (!removed) {
      console.error(`No document with id "${id}" (use the id from \`andon kb list\`).`);
      return 1;
    }
    console.log(`removed ${id} (recorded in the audit log)`);
    return 0;
  });
}

async function search(args: string[]): Promise<number> {
  const parsed = parseCommandLine(
    args,
    {
      ...sharedOptions,
      filter: { type: 'string', multiple: true, default: [] },
      limit: { type: 'string', default: '5' },
      mode: { type: 'string', default: 'hybrid' },
      history: { type: 'boolean', default: false },
      mmr: { type: 'boolean', default: false },
      explain: { type: 'boolean', default: false },
    },
    usage,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const query = positionals.join(' ').trim();
  if (query === '') {
    console.error('usage: andon kb search "QUERY" [--filter key=value]... [--explain]');
    return 2;
  }
  const options = {
    filter: parseFilters((values.filter as unknown as string[] | undefined) ?? []),
    limit: count('limit', values.limit),
    mode: choice<SearchMode>('mode', values.mode, ['hybrid', 'vector', 'fulltext']),
    history: values.history === true,
    mmr: values.mmr === true,
  };
  return withKnowledgeBase(values, async (kb) => {
    const hits = await kb.search(query, options);
    if (values.json) for (const hit of hits) console.log(JSON.stringify(hit));
    else printHits(hits, values.explain === true);
    return 0;
  });
}

async function reembedCommand(args: string[]): Promise<number> {
  const parsed = parseCommandLine(args, { ...sharedOptions, actor: { type: 'string' } }, usage);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0) {
    console.error(`Unexpected argument '${positionals[0]}': kb reembed takes flags only.\n\n${usage}`);
    return 2;
  }
  return withKnowledgeBase(values, async (kb) => {
    const result = await kb.reembed(optionalString(values, 'actor') ?? defaultActor(), {
      onProgress: (done, total) => process.stderr.write(`\rre-embedded ${done}/${total} chunks`),
    });
    if (result.chunks > 0) process.stderr.write('\n');
    const from = Object.entries(result.from)
      .map(([model, chunks]) => `${model} (${chunks})`)
      .join(', ');
    console.log(
      result.chunks === 0
        ? `All chunks already use ${result.to}.`
        : `re-embedded ${result.chunks} chunks from ${from} to ${result.to}`,
    );
    return 0;
  });
}

const subcommands: Record<string, (args: string[]) => Promise<number>> = {
  add,
  list,
  show,
  remove,
  search,
  reembed: reembedCommand,
};

export const command: Command = {
  name: 'kb',
  summary: 'Knowledge base: add, list, show, remove, search, reembed',
  usage,
  async run(args) {
    const [subcommand, ...rest] = args;
    if (!subcommand || subcommand === '--help' || subcommand === '-h') {
      console.log(usage);
      return subcommand ? 0 : 2;
    }
    const run = Object.hasOwn(subcommands, subcommand) ? subcommands[subcommand] : undefined;
    if (!run) {
      console.error(`andon kb: unknown subcommand "${subcommand}".\n\n${usage}`);
      return 2;
    }
    return run(rest);
  },
};
