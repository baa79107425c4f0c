import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { AndonError, Deviation, ProductionContext, Reading } from '../core/index.ts';
import { type DocumentInput, parseJsonl, parseTextDocument } from '../knowledge/index.ts';

/**
 * One eval case, one line of cases.jsonl. `input.text` is what a person reported; detector evidence (`deviations`) and
 * the signal history around it (`readings`) are optional and go through the same store paths as in production.
 */
export const EvalCase = z.object({
  id: z.string().min(1).max(200),
  input: z.looseObject({
    text: z.string().min(1),
    title: z.string().min(1).max(500).optional(),
    deviations: z.array(Deviation).max(50).optional(),
    readings: z.array(Reading).max(20_000).optional(),
    context: ProductionContext.optional(),
  }),
  expected: z.looseObject({ category: z.string().min(1) }),
  tags: z.array(z.string().min(1)).default([]),
});
export type EvalCase = z.infer<typeof EvalCase>;

/** The closed list of root-cause categories (categories.json): an array of names. */
export const Categories = z.array(z.string().min(1)).min(1);

export interface LineFailure {
  line: number;
  reason: string;
}

/** Parse cases.jsonl text. Every bad line is reported with its number; a dataset with any bad line is refused. */
export function parseCases(text: string, source = 'cases.jsonl'): EvalCase[] {
  const cases: EvalCase[] = [];
  const failures: LineFailure[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      failures.push({ line: index + 1, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
    const parsed = EvalCase.safeParse(json);
    if (parsed.success) cases.push(parsed.data);
    else
      failures.push({
        line: index + 1,
        reason: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; '),
      });
  });
  if (failures.length > 0) {
    const shown = failures
      .slice(0, 5)
      .map((failure) => `line ${failure.line}: ${failure.reason}`)
      .join('\n  ');
    throw new AndonError(
      'bad_request',
      `${source} has ${failures.length} invalid line(s); fix them and run again:\n  ${shown}${failures.length > 5 ? '\n  …' : ''}`,
    );
  }
  const seen = new Set<string>();
  for (const item of cases) {
    if (seen.has(item.id)) throw new AndonError('bad_request', `${source}: case id "${item.id}" appears twice.`);
    seen.add(item.id);
  }
  return cases;
}

export interface Dataset {
  cases: EvalCase[];
  knowledge: DocumentInput[];
  /** The closed taxonomy, or null when categories.json was not given. */
  categories: string[] | null;
  /** SHA-256 over the inputs, so two runs on the same data can be told apart from two on different data. */
  hash: string;
  sources: { cases: string; kb: string; categories: string | null; sops: string | null };
}

export interface DatasetPaths {
  cases: string;
  kb: string;
  categories?: string | undefined;
  /** A directory of SOP Markdown/text files to load beside kb.jsonl. */
  sops?: string | undefined;
}

const readText = async (path: string, what: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AndonError('bad_request', `Cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
};

/** Load cases, knowledge base documents, categories and SOPs from disk, validating each. */
export async function loadDataset(paths: DatasetPaths): Promise<Dataset> {
  const hash = createHash('sha256');
  const casesText = await readText(paths.cases, 'cases');
  hash.update(casesText);
  const cases = parseCases(casesText, paths.cases);
  if (cases.length === 0) throw new AndonError('bad_request', `${paths.cases} holds no cases.`);

  const kbText = await readText(paths.kb, 'knowledge base');
  hash.update(kbText);
  const parsed = parseJsonl(kbText, paths.kb);
  if (parsed.failures.length > 0) {
    const first = parsed.failures[0]!;
    throw new AndonError(
      'bad_request',
      `${paths.kb} has ${parsed.failures.length} invalid line(s); first: line ${first.line}: ${first.reason}`,
    );
  }
  const knowledge = parsed.documents;

  let categories: string[] | null = null;
  if (paths.categories) {
    const text = await readText(paths.categories, 'categories');
    hash.update(text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new AndonError('bad_request', `${paths.categories} is not valid JSON: ${(error as Error).message}`);
    }
    const result = Categories.safeParse(json);
    if (!result.success)
      throw new AndonError('bad_request', `${paths.categories} must be a JSON array of category names.`);
    categories = [...new Set(result.data)];
    const unknown = [...new Set(cases.map((item) => item.expected.category))].filter(
      (category) => !categories!.includes(category),
    );
    if (unknown.length > 0)
      throw new AndonError(
        'bad_request',
        `Expected categories not in ${paths.categories}: ${unknown.slice(0, 5).join(', ')}. Add them or fix the cases.`,
      );
  }

  if (paths.sops) {
    let files: string[];
    try {
      files = (await readdir(paths.sops)).sort();
    } catch (error) {
      throw new AndonError('bad_request', `Cannot read the SOP directory ${paths.sops}: ${(error as Error).message}`);
    }
    for (const file of files) {
      if (!['.md', '.markdown', '.txt'].includes(extname(file).toLowerCase()) || /^license/i.test(file)) continue;
      const path = join(paths.sops, file);
      const text = await readFile(path, 'utf8');
      if (text.trim() === '') continue;
      hash.update(`\n${file}\n${text}`);
      knowledge.push(parseTextDocument(text, path, { kind: 'sop' }));
    }
  }

  return {
    cases,
    knowledge,
    categories,
    hash: hash.digest('hex'),
    sources: { cases: paths.cases, kb: paths.kb, categories: paths.categories ?? null, sops: paths.sops ?? null },
  };
}

/** The title a case gets: the input's title, else the first line of its text. */
export function caseTitle(item: EvalCase): string {
  if (item.input.title) return item.input.title;
  const first = item.input.text.trim().split('\n', 1)[0] ?? item.id;
  return first.length > 160 ? `${first.slice(0, 157)}…` : first;
}

/** A category's distinct-event grouping key of a knowledge hit: `metadata.event_id`, else its document. */
export function eventOf(metadata: Record<string, unknown>, documentId: string): string {
  const event = metadata.event_id;
  return typeof event === 'string' || typeof event === 'number' ? String(event) : `doc:${documentId}`;
}

/** The category label of a knowledge hit, if it has one. */
export function categoryOf(metadata: Record<string, unknown>): string | null {
  const category = metadata.category ?? metadata.root_cause;
  return typeof category === 'string' && category !== '' ? category : null;
}
