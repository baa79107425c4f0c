import { z } from 'zod';
import { Case, DecisionRequest, Draft } from '../core/index.ts';
import { secondaryOpenApiPaths } from './openapi-secondary.ts';

const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string(), requestId: z.string() }) });

const json = (schema: z.ZodType) => ({
  'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) },
});
const errors = {
  401: { description: 'Not signed in', content: json(ErrorBody) },
  403: { description: 'Not allowed', content: json(ErrorBody) },
  404: { description: 'No such case', content: json(ErrorBody) },
};

/** The OpenAPI 3.1 description of the REST API, built from the same zod schemas that validate requests. */
export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'andon API',
      version: '1',
      description:
        'Cases, drafts and signed decisions. Authenticate with a session cookie or `Authorization: Bearer <token>` (`npx andon token create`).',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: 'andon_session' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths: {
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'Alive' } } } },
      '/api/v1/cases': {
        get: {
          summary: 'List cases, newest first',
          parameters: [
            { name: 'status', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'limit', in: 'query', required: false, schema: { type: 'integer', maximum: 500 } },
          ],
          responses: {
            200: { description: 'Cases', content: json(z.object({ cases: z.array(Case) })) },
            401: errors[401],
          },
        },
      },
      '/api/v1/cases/{id}': {
        get: {
          summary: 'One case with its deviations, current draft, signatures, executions and audit entries',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: { description: 'The case', content: json(z.object({ case: Case, draft: Draft.nullable() })) },
            ...errors,
          },
        },
      },
      '/api/v1/cases/{id}/decision': {
        post: {
          summary: 'Sign a decision (approve or reject) on the current draft; needs the signer’s password again',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            required: true,
            content: json(DecisionRequest.extend({ password: z.string(), recordHash: z.string().optional() })),
          },
          responses: {
            200: { description: 'Signed; the graph continues' },
            409: { description: 'The draft changed or was decided already', content: json(ErrorBody) },
            ...errors,
          },
        },
      },
      ...secondaryOpenApiPaths,
    },
  };
}
