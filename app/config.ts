import { z } from 'zod';
import { AndonError } from '../core/index.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
  .transform((value) => ['true', '1', 'yes', 'on'].includes(value));

/**
 * Every environment variable andon reads, in one place, with its default and meaning.
 * The README's configuration table and the docker-compose check are derived from this list.
 */
export const environment = {
  PORT: { schema: z.coerce.number().int().min(0).max(65535), default: '3000', help: 'HTTP port of the web UI and API' },
  HOST: { schema: z.string().min(1), default: '127.0.0.1', help: 'Address the HTTP server binds to' },
  PUBLIC_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'URL users reach andon at (links in Slack and e-mails); defaults to http://HOST:PORT',
  },
  ANDON_DATA_DIR: {
    schema: z.string().min(1),
    default: './.andon/data',
    help: 'Directory for the embedded database and other local state',
  },
  DATABASE_URL: {
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    default: undefined,
    help: 'PostgreSQL ≥ 15 with pgvector ≥ 0.7; unset means embedded PGlite in ANDON_DATA_DIR',
  },
  DATABASE_POOL_SIZE: { schema: z.coerce.number().int().min(1).max(100), default: '5', help: 'pg pool size' },
  MQTT_URL: {
    schema: z
      .string()
      .regex(/^(mqtts?|wss?|tcp):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://')
      .optional(),
    default: undefined,
    help: 'MQTT broker (any MQTT 5 broker, e.g. mosquitto); unset means the embedded broker',
  },
  MQTT_EMBEDDED_PORT: {
    schema: z.coerce.number().int().min(0).max(65535),
    default: '18830',
    help: 'Port of the embedded MQTT broker on 127.0.0.1 (never 1883, so it cannot clash with a real broker)',
  },
  MQTT_TOPIC_PREFIX: {
    schema: z.string().regex(/^[^#+]+[^/#+]$/, 'must be a topic path without wildcards or a trailing /'),
    default: 'andon/plant',
    help: 'Topic prefix of plant readings: <prefix>/<area>/<line>/<tag> (the simulator publishes under it too)',
  },
  MQTT_TOPICS: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'Comma-separated topic filters andon subscribes to; defaults to MQTT_TOPIC_PREFIX/#',
  },
  MQTT_CLIENT_ID: { schema: z.string().min(1), default: 'andon-ingest', help: 'MQTT client id of the ingest session' },
  MQTT_USERNAME: { schema: z.string().min(1).optional(), default: undefined, help: 'User name at the MQTT broker' },
  MQTT_PASSWORD: { schema: z.string().optional(), default: undefined, help: 'Password at the MQTT broker' },
  MQTT_MAPPINGS: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'YAML file of topic mappings for devices with their own payloads (connectors/mqtt/README.md)',
  },
  MQTT_SHARED_GROUP: {
    schema: z
      .string()
      .regex(/^[^/+#]+$/, "a group name without '/', '+' or '#'")
      .optional(),
    default: undefined,
    help: 'MQTT 5 shared subscription group ($share/<group>/…); with ANDON_PARTITIONS the default is andon',
  },
  MQTT_SPARKPLUG: {
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
    help: 'Sparkplug B on spBv1.0/#: births, aliases, deaths, rebirths; auto = on if SIMULATOR_FORMAT=sparkplug',
  },
  OPCUA_CONFIG: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'Comma-separated OPC UA tag configs (YAML, `andon opcua browse` writes them); unset means no OPC UA',
  },
  OPCUA_PASSWORD: {
    schema: z.string().optional(),
    default: undefined,
    help: 'Password for OPC UA user name authentication (instead of a password in the tag config)',
  },
  SIMULATOR: {
    schema: bool,
    default: 'true',
    help: 'Run the built-in plant simulator in the same process (demo); set false against a real plant',
  },
  SIMULATOR_SCENARIO: {
    schema: z.string().min(1),
    default: 'drift-demo',
    help: 'Built-in scenario name or path to a scenario YAML for the simulator',
  },
  SIMULATOR_INTERVAL_MS: { schema: z.coerce.number().int().min(10), default: '1000', help: 'Simulator sample period' },
  SIMULATOR_SPEED: {
    schema: z.coerce.number().min(0.1).max(1000),
    default: '1',
    help: 'Simulator speed-up over wall-clock time (10 = ten samples per sample period)',
  },
  SIMULATOR_FORMAT: {
    schema: z.enum(['json', 'sparkplug', 'opcua']),
    default: 'json',
    help: 'Simulator to andon over MQTT JSON, MQTT Sparkplug B, or OPC UA (its server on SIMULATOR_OPCUA_PORT)',
  },
  SIMULATOR_OPCUA_PORT: {
    schema: z.coerce.number().int().min(0).max(65535),
    default: '4840',
    help: 'Port of the simulator OPC UA server on 127.0.0.1 with SIMULATOR_FORMAT=opcua (0 picks a free port)',
  },
  OPENAI_BASE_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'OpenAI-compatible endpoint (OpenAI, Azure, Ollama, vLLM); unset means the offline drafter',
  },
  OPENAI_API_KEY: { schema: z.string().optional(), default: undefined, help: 'API key for OPENAI_BASE_URL' },
  OPENAI_MODEL: { schema: z.string().min(1), default: 'gpt-4o-mini', help: 'Model name at OPENAI_BASE_URL' },
  OPENAI_STRUCTURED_OUTPUT: {
    schema: z.enum(['json_schema', 'function_calling', 'json_mode']),
    default: 'json_schema',
    help: 'How the model is asked for structured output (servers differ in what they support)',
  },
  OPENAI_TIMEOUT_MS: { schema: z.coerce.number().int().min(1000), default: '60000', help: 'Timeout of one model call' },
  OPENAI_MAX_RETRIES: {
    schema: z.coerce.number().int().min(0).max(10),
    default: '3',
    help: 'Retries of a model call on 429, 5xx and timeouts (with backoff and Retry-After)',
  },
  OPENAI_PRICE_INPUT_PER_MTOK: {
    schema: z.coerce.number().min(0).optional(),
    default: undefined,
    help: 'USD per million input tokens, for cost accounting (unset: cost not reported)',
  },
  OPENAI_PRICE_OUTPUT_PER_MTOK: {
    schema: z.coerce.number().min(0).optional(),
    default: undefined,
    help: 'USD per million output tokens, for cost accounting',
  },
  EMBEDDINGS_BASE_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'OpenAI-compatible embeddings endpoint for the knowledge base; unset means the offline embedder (no weights)',
  },
  EMBEDDINGS_API_KEY: {
    schema: z.string().optional(),
    default: undefined,
    help: 'API key for EMBEDDINGS_BASE_URL; unset means OPENAI_API_KEY',
  },
  EMBEDDINGS_MODEL: {
    schema: z.string().min(1),
    default: 'text-embedding-3-small',
    help: 'Embedding model at EMBEDDINGS_BASE_URL; after changing it run `andon kb reembed`',
  },
  EMBEDDINGS_DIMENSIONS: {
    schema: z.coerce.number().int().min(1).max(4000).optional(),
    default: undefined,
    help: 'Vector length (needed for models andon does not know; shorter than native is requested as `dimensions`)',
  },
  ACTIONS_CONFIG: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'YAML file routing approved actions to REST APIs and webhooks (docs/actions.md); unset means the sandbox ERP',
  },
  OUTBOX_MAX_ATTEMPTS: {
    schema: z.coerce.number().int().min(1).max(100),
    default: '8',
    help: 'Delivery attempts of an approved action before it moves to the dead-letter queue',
  },
  SANDBOX_ERP_FAULTS: {
    schema: z.string().optional(),
    default: undefined,
    help: 'Faults the sandbox ERP injects, e.g. latency=50-400,503=0.1,429=0.05,retry-after=2 (docs/actions.md)',
  },
  ANDON_SEED_DEMO: {
    schema: z.enum(['auto', 'true', 'false']),
    default: 'auto',
    help: 'Create the demo users (README) and load the demo SOPs at start; auto = only on the embedded database',
  },
  APPROVAL_TIMEOUT_HOURS: {
    schema: z.coerce
      .number()
      .min(0.01)
      .max(24 * 90),
    default: '24',
    help: 'How long an approval request waits before it escalates to the next role (never approves)',
  },
  APPROVAL_ESCALATION_ROLES: {
    schema: z.string().regex(/^[a-z_]+(,[a-z_]+)*$/, 'a comma-separated list of roles'),
    default: 'quality_lead',
    help: 'Roles an expired approval request goes to, in order; after the last, a human takes the case over',
  },
  EFFECTIVENESS_CHECK_HOURS: {
    schema: z.coerce
      .number()
      .min(0.001)
      .max(24 * 365),
    default: '336',
    help: 'Verification period of a CAPA: hours after the hand-off until the same detectors check it again',
  },
  APPROVAL_POLICY_FILE: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'YAML approval policy: who approves what, how many people, expiry, escalation (docs/governance.md); unset: deploy/policies/approval-policy.yaml',
  },
  OIDC_ISSUER_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'OpenID Connect issuer for single sign-on (docs/governance.md); unset means local accounts only',
  },
  OIDC_CLIENT_ID: { schema: z.string().min(1).optional(), default: undefined, help: 'OIDC client id of andon' },
  OIDC_CLIENT_SECRET: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'OIDC client secret of andon (confidential client; PKCE is used as well)',
  },
  OIDC_REDIRECT_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'OIDC redirect URL registered at the provider; defaults to PUBLIC_URL/auth/oidc/callback',
  },
  OIDC_ROLES_CLAIM: {
    schema: z.string().min(1),
    default: 'roles',
    help: 'ID token claim holding andon roles (e.g. quality_lead or quality_lead@area-packaging)',
  },
  ANDON_SESSION_TTL_HOURS: {
    schema: z.coerce.number().min(0.1).max(720),
    default: '12',
    help: 'Login session lifetime',
  },
  SLACK_BOT_TOKEN: {
    schema: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
    default: undefined,
    help: 'Bot token of the Slack app (docs/slack.md); unset means no Slack',
  },
  SLACK_SIGNING_SECRET: {
    schema: z.string().min(8).optional(),
    default: undefined,
    help: 'Signing secret that verifies requests to /slack/events (needed unless SLACK_APP_TOKEN is set)',
  },
  SLACK_APP_TOKEN: {
    schema: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
    default: undefined,
    help: 'App-level token: Socket Mode, so andon needs no inbound internet',
  },
  SLACK_CHANNEL: {
    schema: z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel id such as C0123ABCD')
      .optional(),
    default: undefined,
    help: 'Channel id for cases no SLACK_ROUTING route matches; unset means those are not posted',
  },
  SLACK_ROUTING: {
    schema: z.string().min(1).optional(),
    default: undefined,
    help: 'YAML file routing areas and lines to Slack channels, with severity thresholds (docs/slack.md)',
  },
  SLACK_API_URL: {
    schema: z.url().optional(),
    default: undefined,
    help: 'Slack Web API base URL; unset means https://slack.com/api/',
  },
  SLACK_SIGNING_LINK_MINUTES: {
    schema: z.coerce.number().int().min(1).max(60),
    default: '10',
    help: 'Lifetime of the single-use signing link that Approve… and Reject… in Slack hand out',
  },
  LOG_LEVEL: {
    schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
    default: 'info',
    help: 'Log verbosity',
  },
  ANDON_WORKER_ID: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (at most 64)')
      .optional(),
    default: undefined,
    help: 'Name of this worker when several share a database (case leases, docs/scale-out.md); unset means the host name',
  },
  ANDON_PARTITIONS: {
    schema: z.coerce.number().int().min(1).max(1024).optional(),
    default: undefined,
    help: 'Run as a scale-out worker over this many partitions of the plant (docs/scale-out.md); unset = one process',
  },
  ANDON_LEASE_SECONDS: {
    schema: z.coerce.number().min(1).max(600),
    default: '15',
    help: 'Scale-out: a partition or case lease not renewed for this long goes to another worker',
  },
  METRICS_TOKEN: {
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    default: undefined,
    help: 'Bearer token for GET /metrics from other hosts; unset means only loopback clients may scrape',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: z.url().optional(),
    default: undefined,
    help: 'OpenTelemetry collector (OTLP/HTTP); traces go to <endpoint>/v1/traces; unset means no export',
  },
  OTEL_SERVICE_NAME: {
    schema: z.string().min(1),
    default: 'andon',
    help: 'service.name of the exported traces',
  },
} as const;

export type EnvironmentName = keyof typeof environment;
export const environmentNames = Object.keys(environment) as EnvironmentName[];

const shape = Object.fromEntries(
  Object.entries(environment).map(([name, spec]) => [
    name,
    spec.default === undefined ? spec.schema : (spec.schema as z.ZodType).prefault(spec.default as never),
  ]),
) as unknown as { [K in EnvironmentName]: (typeof environment)[K]['schema'] };

const ConfigSchema = z.object(shape);
export type Config = z.output<typeof ConfigSchema>;

/** Parse the environment once. A bad value fails fast with a message naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const name of environmentNames) {
    const value = env[name];
    if (value !== undefined && value !== '') input[name] = value;
  }
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}=${JSON.stringify(input[String(issue.path[0])])}: ${issue.message}`)
      .join('; ');
    throw new AndonError(
      'invalid_config',
      `Invalid environment: ${problems}. See the configuration table in README.md.`,
    );
  }
  return parsed.data;
}

export const publicUrl = (config: Config): string =>
  config.PUBLIC_URL ?? `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}`;
