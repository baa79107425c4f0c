import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ActionType, AndonError } from '../../core/index.ts';

const Secret = z.string().min(1);

export const AuthConfig = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  z.object({
    type: z.literal('api_key'),
    /** Header that carries the key (default X-API-Key); or `query` to send it as a query parameter. */
    header: z.string().min(1).optional(),
    query: z.string().min(1).optional(),
    value: Secret,
  }),
  z.object({ type: z.literal('basic'), username: Secret, password: Secret }),
  z.object({ type: z.literal('bearer'), token: Secret }),
  z.object({
    type: z.literal('oauth2_client_credentials'),
    tokenUrl: z.url(),
    clientId: Secret,
    clientSecret: Secret,
    scope: z.string().optional(),
    audience: z.string().optional(),
    /** How the client authenticates at the token endpoint (RFC 6749 §2.3.1): HTTP basic (default) or form fields. */
    clientAuth: z.enum(['basic', 'body']).default('basic'),
  }),
]);
export type AuthConfig = z.infer<typeof AuthConfig>;

export const EndpointConfig = z.object({
  baseUrl: z.url(),
  auth: AuthConfig.default({ type: 'none' }),
  headers: z.record(z.string(), z.string()).default({}),
  timeoutMs: z.number().int().min(100).max(300_000).default(15_000),
  /** Requests per second to this endpoint, with an optional burst. */
  rateLimit: z.object({ perSecond: z.number().positive(), burst: z.number().int().positive().optional() }).optional(),
  /** Send the action's idempotency key in this header (default Idempotency-Key; set to '' to leave it out). */
  idempotencyHeader: z.string().default('Idempotency-Key'),
  /**
   * SAP Gateway (OData V2) style CSRF protection: fetch a token with `X-CSRF-Token: Fetch` from this path before the
   * first write, send it (and the session cookies) with every write, and fetch a new one when the server answers 403
   * `X-CSRF-Token: Required`.
   */
  csrf: z.object({ fetchPath: z.string().startsWith('/') }).optional(),
  circuitBreaker: z
    .object({ failureThreshold: z.number().int().min(1).default(5), openMs: z.number().int().min(100).default(30_000) })
    .optional(),
});
export type EndpointConfig = z.infer<typeof EndpointConfig>;

export const ActionRoute = z.object({
  endpoint: z.string().min(1),
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']).default('POST'),
  /** Path below the endpoint's baseUrl; `{{…}}` values are URL-encoded. */
  path: z.string().startsWith('/'),
  query: z.record(z.string(), z.string()).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** The request body: any JSON shape with `{{params.x}}` templates (see template.ts). Omit for no body. */
  body: z.unknown().optional(),
  response: z
    .object({
      /** Dotted path to the external id in the JSON answer, e.g. `d.MaintenanceNotification`. */
      externalId: z.string().min(1).optional(),
      /** Or the answer's Location header (the last path segment is the id). */
      fromLocationHeader: z.boolean().default(false),
    })
    .default({ fromLocationHeader: false }),
  /** Statuses that mean success (default: any 2xx). */
  successStatus: z.array(z.number().int().min(200).max(299)).optional(),
});
export type ActionRoute = z.infer<typeof ActionRoute>;

export const WebhookTarget = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  url: z.url(),
  /** Shared secret of the HMAC-SHA256 signature; at least 16 characters. */
  secret: z.string().min(16),
  /** Event names this target receives (`*` matches all, `lot.*` a prefix). */
  events: z.array(z.string().min(1)).default(['*']),
  timeoutMs: z.number().int().min(100).max(60_000).default(10_000),
  rateLimit: z.object({ perSecond: z.number().positive(), burst: z.number().int().positive().optional() }).optional(),
});
export type WebhookTarget = z.infer<typeof WebhookTarget>;

/** The actions config (ACTIONS_CONFIG): where each action type goes and how. Unlisted types go to `default`. */
export const ActionsConfig = z
  .object({
    version: z.literal(1),
    /** Where an action type without a route goes: the embedded sandbox ERP (default) or nowhere (dead-letters). */
    default: z.enum(['sandbox', 'none']).default('sandbox'),
    /** Constants for templates: `{{vars.plant}}`. */
    vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    endpoints: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), EndpointConfig).default({}),
    actions: z.partialRecord(ActionType, ActionRoute).default({}),
    webhooks: z.array(WebhookTarget).default([]),
  })
  .superRefine((config, context) => {
    for (const [type, route] of Object.entries(config.actions)) {
      if (route && !config.endpoints[route.endpoint]) {
        context.addIssue({
          code: 'custom',
          path: ['actions', type, 'endpoint'],
          message: `names endpoint "${route.endpoint}", which is not under endpoints (${Object.keys(config.endpoints).join(', ') || 'none'})`,
        });
      }
    }
  });
export type ActionsConfig = z.infer<typeof ActionsConfig>;

/** Replace `${env:NAME}` in every string of the parsed YAML, so secrets stay out of the file. */
function substituteEnvironment(value: unknown, env: Record<string, string | undefined>, path: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = env[name];
      if (found === undefined || found === '') {
        throw new AndonError(
          'invalid_config',
          `The actions config needs environment variable ${name} (at ${path.join('.') || 'the top'}); set it or remove the reference.`,
        );
      }
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => substituteEnvironment(item, env, [...path, String(index)]));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteEnvironment(item, env, [...path, key])]),
    );
  }
  return value;
}

/**
 * Parse an actions config from YAML text. `${env:NAME}` references are resolved from `env`. A problem fails with a
 * message naming the file, the path in it and what is wrong.
 */
export function parseActionsConfig(
  text: string,
  options: { env?: Record<string, string | undefined>; source?: string } = {},
): ActionsConfig {
  const source = options.source ?? 'the actions config';
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (cause) {
    throw new AndonError('invalid_config', `${source} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  const resolved = substituteEnvironment(raw, options.env ?? {}, []);
  const parsed = ActionsConfig.safeParse(resolved);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(top)'}: ${issue.message}`);
    throw new AndonError('invalid_config', `${source} is invalid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** Read and parse an actions config file (ACTIONS_CONFIG). */
export async function loadActionsConfig(
  path: string,
  env: Record<string, string | undefined> = {},
): Promise<ActionsConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AndonError('invalid_config', `Cannot read the actions config ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  return parseActionsConfig(text, { env, source: path });
}
