import { z } from 'zod';
import { CompareQuery, RunId } from './evals-api.ts';
import { DocumentId, SearchQuery, UploadFields } from './kb-api.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) });
const schema = (type: z.ZodType) => z.toJSONSchema(type, { io: 'input', unrepresentable: 'any' });
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: schema(ErrorBody) } },
});
const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
const query = (type: z.ZodObject) => {
  const json = schema(type);
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: (json.required ?? []).includes(name) && name !== 'resamples',
    schema: property,
  }));
};
const path = (name: string, type: z.ZodType) => ({ name, in: 'path', required: true, schema: schema(type) });
const denied = { 401: error('Not signed in'), 403: error('Not allowed for your role') };

/** The knowledge base and eval runs in the OpenAPI document (built from the zod schemas that check the requests). */
export const secondaryOpenApiPaths = {
  '/api/v1/kb/documents': {
    get: {
      summary: 'Knowledge documents grouped by lineage, every revision with its status',
      parameters: [
        { name: 'kind', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'status', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'search', in: 'query', required: false, schema: { type: 'string' } },
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 1000 } },
        { name: 'offset', in: 'query', required: false, schema: { type: 'integer' } },
      ],
      responses: { 200: ok('Documents'), ...denied },
    },
    post: {
      summary:
        'Load files (md, txt, html, pdf, docx, jsonl) as knowledge documents; engineer, quality lead or admin; audited',
      requestBody: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['file'],
              properties: {
                file: { type: 'array', items: { type: 'string', format: 'binary' } },
                ...schema(UploadFields).properties,
              },
            },
          },
        },
      },
      responses: {
        201: ok('Loaded: results per document and failures per file'),
        200: ok('Nothing new: identical content was already loaded'),
        400: error('No file, a bad field, or over the size limit'),
        422: error('No file could be loaded; the message names each reason'),
        ...denied,
      },
    },
  },
  '/api/v1/kb/documents/{id}': {
    get: {
      summary: 'One document revision with its text, passages and revisions',
      parameters: [path('id', DocumentId)],
      responses: { 200: ok('The document'), 404: error('No such document'), ...denied },
    },
    delete: {
      summary: 'Remove one revision; engineer, quality lead or admin; audited',
      parameters: [path('id', DocumentId)],
      requestBody: {
        required: false,
        content: { 'application/json': { schema: schema(z.object({ reason: z.string().optional() })) } },
      },
      responses: { 200: ok('Removed'), 404: error('No such document'), ...denied },
    },
  },
  '/api/v1/kb/search': {
    get: {
      summary: 'Hybrid search; explain=true adds full-text, vector and fused (RRF) scores to every hit',
      parameters: [
        ...query(SearchQuery),
        {
          name: 'filter',
          in: 'query',
          required: false,
          description: 'key=value, repeatable (kind, status, plant, line, asset, product_family, document_number, …)',
          schema: { type: 'array', items: { type: 'string' } },
          explode: true,
        },
      ],
      responses: { 200: ok('Hits with citations'), 400: error('No query or a bad filter'), ...denied },
    },
  },
  '/api/v1/evals': {
    get: {
      summary: 'Stored eval runs with metrics, config hash, model, prompt versions and git commit, newest first',
      parameters: [{ name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 500 } }],
      responses: { 200: ok('Runs'), ...denied },
    },
  },
  '/api/v1/evals/compare': {
    get: {
      summary: 'Compare run A with run B: metric deltas with paired bootstrap 95 % intervals, and the flipped cases',
      parameters: query(CompareQuery),
      responses: {
        200: ok('The comparison'),
        400: error('Missing or equal runs'),
        404: error('No such run'),
        ...denied,
      },
    },
  },
  '/api/v1/evals/{id}': {
    get: {
      summary: 'One eval run with its per-tag slices and full report',
      parameters: [path('id', RunId)],
      responses: { 200: ok('The run'), 404: error('No such run'), ...denied },
    },
  },
};
