import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { AndonError, canonicalJson, sha256Hex } from '../core/index.ts';
import type { FetchLike } from './usage.ts';

/**
 * Record/replay of LLM HTTP exchanges, so LLM-mode evals are deterministic in CI. It wraps the `fetch` an OpenAI
 * client uses: the key of an exchange is the hash of the method, the path and the canonical JSON body, so it includes
 * the model, the prompts and every parameter. A changed prompt is a different key: in replay mode that is a cassette
 * miss (an HTTP 400 naming the key, counted in `stats()`; the eval fails on any miss), never a stale pass. Headers (API keys) are neither part of the key nor stored.
 */
export const CassetteMode = z.enum(['record', 'replay', 'auto', 'off']);
export type CassetteMode = z.infer<typeof CassetteMode>;

const Exchange = z.object({
  request: z.object({ method: z.string(), path: z.string(), body: z.unknown() }),
  response: z.object({ status: z.number().int(), contentType: z.string(), body: z.string() }),
});
type Exchange = z.infer<typeof Exchange>;

const CassetteFile = z.object({ version: z.literal(1), exchanges: z.record(z.string(), Exchange) });

export interface Cassette {
  fetch: FetchLike;
  mode: CassetteMode;
  path: string;
  /** Write recorded exchanges to the file (record and auto modes). */
  save(): Promise<void>;
  stats(): { hits: number; misses: number; recorded: number };
}

const requestParts = async (input: string | URL | Request, init?: RequestInit) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await request.text();
  let body: unknown = text;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { method: request.method, path: `${url.pathname}${url.search}`, body };
};

/** The key of a request: everything that changes the answer (method, path, body), nothing secret. */
export const exchangeKey = (parts: { method: string; path: string; body: unknown }): string =>
  sha256Hex(canonicalJson(parts)).slice(0, 32);

const preview = (body: unknown): string => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
};

/**
 * Open a cassette file. `replay` never touches the network; `record` always does and stores the answers; `auto` replays
 * what it has and records the rest; `off` passes through.
 *
 * @example
 * const cassette = await openCassette('eval/__fixtures__/llm.cassette.json', 'replay');
 * const client = new OpenAI({ baseURL, apiKey, fetch: cassette.fetch });
 */
export async function openCassette(path: string, mode: CassetteMode, inner: FetchLike = fetch): Promise<Cassette> {
  let exchanges: Record<string, Exchange> = {};
  try {
    const parsed = CassetteFile.safeParse(JSON.parse(await readFile(path, 'utf8')));
    if (!parsed.success) throw new AndonError('bad_request', `${path} is not an andon cassette (version 1).`);
    exchanges = parsed.data.exchanges;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (mode === 'replay')
      throw new AndonError(
        'bad_request',
        `Cassette ${path} does not exist; record it first with --cassette-mode record.`,
      );
  }
  const counts = { hits: 0, misses: 0, recorded: 0 };
  let dirty = false;
  const replay = (exchange: Exchange): Response =>
    new Response(exchange.response.body, {
      status: exchange.response.status,
      headers: { 'content-type': exchange.response.contentType, 'x-andon-cassette': 'replay' },
    });
  return {
    mode,
    path,
    stats: () => ({ ...counts }),
    async fetch(input, init) {
      if (mode === 'off') return inner(input, init);
      const parts = await requestParts(input, init);
      const key = exchangeKey(parts);
      const known = exchanges[key];
      if (known && mode !== 'record') {
        counts.hits++;
        return replay(known);
      }
      if (mode === 'replay') {
        counts.misses++;
        // An HTTP 400 rather than a thrown error: clients do not retry it, and its message reaches the case's error.
        const message = `Cassette miss in ${path}: no recorded answer for ${parts.method} ${parts.path} (key ${key}). The prompt or a parameter changed; re-record with --cassette-mode record. Request: ${preview(parts.body)}`;
        return new Response(JSON.stringify({ error: { message, type: 'cassette_miss', code: 'cassette_miss' } }), {
          status: 400,
          headers: { 'content-type': 'application/json', 'x-andon-cassette': 'miss' },
        });
      }
      const response = await inner(input, init);
      const body = await response.text();
      exchanges[key] = {
        request: parts,
        response: { status: response.status, contentType: response.headers.get('content-type') ?? '', body },
      };
      counts.recorded++;
      dirty = true;
      return new Response(body, { status: response.status, headers: response.headers });
    },
    async save() {
      if (!dirty) return;
      const sorted = Object.fromEntries(Object.entries(exchanges).sort(([a], [b]) => a.localeCompare(b)));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${JSON.stringify({ version: 1, exchanges: sorted }, null, 1)}\n`);
      dirty = false;
    },
  };
}
