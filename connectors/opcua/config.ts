import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { AndonError, type Quality, TagId } from '../../core/index.ts';

export const SecurityMode = z.enum(['None', 'Sign', 'SignAndEncrypt']);
export const SecurityPolicy = z.enum([
  'None',
  'Basic256Sha256',
  'Aes128_Sha256_RsaOaep',
  'Aes256_Sha256_RsaPss',
  'Basic256',
  'Basic128Rsa15',
]);

export const OpcuaSecurity = z
  .object({ mode: SecurityMode.default('None'), policy: SecurityPolicy.default('None') })
  .refine((security) => (security.mode === 'None') === (security.policy === 'None'), {
    message: 'security mode None goes with policy None, and Sign / SignAndEncrypt need a policy such as Basic256Sha256',
  });
export type OpcuaSecurity = z.output<typeof OpcuaSecurity>;

export const OpcuaAuth = z.discriminatedUnion('type', [
  z.object({ type: z.literal('anonymous') }),
  z.object({ type: z.literal('username'), username: z.string().min(1), password: z.string() }),
  /** An X.509 user certificate and its private key (PEM files, e.g. in the data directory). */
  z.object({ type: z.literal('certificate'), certificateFile: z.string().min(1), privateKeyFile: z.string().min(1) }),
]);
export type OpcuaAuth = z.output<typeof OpcuaAuth>;

export const Deadband = z.object({ type: z.enum(['absolute', 'percent']), value: z.number().min(0) });

/** One subscribed variable. `opcua browse` writes these so nobody types node ids by hand. */
export const OpcuaTag = z.object({
  tag: TagId,
  nodeId: z.string().min(1),
  samplingIntervalMs: z.number().min(0).default(1000),
  queueSize: z.number().int().min(1).default(10),
  deadband: Deadband.optional(),
  unit: z.string().max(40).optional(),
  dataType: z.string().optional(),
  description: z.string().optional(),
});
export type OpcuaTag = z.output<typeof OpcuaTag>;
export type OpcuaTagInput = z.input<typeof OpcuaTag>;

/** A tag config file: one endpoint and its tags (YAML, as `opcua browse` writes it). */
export const OpcuaTagConfig = z.object({
  endpoint: z.string().regex(/^opc\.tcp:\/\//, 'an OPC UA endpoint starts with opc.tcp://'),
  security: OpcuaSecurity.default({ mode: 'None', policy: 'None' }),
  auth: OpcuaAuth.default({ type: 'anonymous' }),
  publishingIntervalMs: z.number().min(10).default(1000),
  tags: z.array(OpcuaTag).min(1),
});
export type OpcuaTagConfig = z.output<typeof OpcuaTagConfig>;

/**
 * Reads a tag config file (YAML, as `andon opcua browse` writes it) and checks it, failing with the file and the
 * field at fault.
 */
export async function loadOpcuaTagConfig(path: string): Promise<OpcuaTagConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `Cannot read the OPC UA tag config ${path} (${error instanceof Error ? error.message : String(error)}). Write one with \`npx andon opcua browse <endpoint> --out ${path}\`.`,
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `The OPC UA tag config ${path} is not valid YAML (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  const parsed = OpcuaTagConfig.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`)
      .join('; ');
    throw new AndonError('invalid_config', `The OPC UA tag config ${path} is invalid: ${problems}.`);
  }
  return parsed.data;
}

/**
 * OPC UA StatusCode → andon quality, from the severity bits (the top two): 00 good, 01 uncertain, 10/11 bad.
 *
 * @example qualityFromStatusCode(0x408f0000) // 'uncertain' (UncertainInitialValue)
 */
export function qualityFromStatusCode(code: number): Quality {
  const severity = code >>> 30;
  if (severity === 0) return 'good';
  return severity === 1 ? 'uncertain' : 'bad';
}

/** Something about a sensor's ability to report that andon must not hide: a lost link, a gap, a backfill. */
export interface OpcuaHealthEvent {
  source: 'opcua';
  /** A tag, or the endpoint for the whole connection. */
  scope: string;
  kind: 'online' | 'offline' | 'data-gap' | 'backfilled' | 'subscription-error';
  at: string;
  detail: string;
  /** The time span concerned, for gaps and backfills. */
  from?: string;
  to?: string;
}

export interface OpcuaDeadLetter {
  source: 'opcua';
  /** The node id. */
  topic: string;
  payloadExcerpt: string;
  reason: string;
  receivedAt: string;
}
