import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header andon signs outbound webhooks with. */
export const SIGNATURE_HEADER = 'Andon-Signature';

/**
 * Sign a webhook body the way Stripe and Slack do: HMAC-SHA256 with the shared secret over `${timestamp}.${body}`,
 * sent as `Andon-Signature: t=<unix seconds>,v1=<hex digest>`. The timestamp inside the signed text stops replays of
 * an old request; the receiver checks it is recent.
 *
 * @example signWebhook('whsec_…', '{"type":"lot.hold"}', 1767225600) // → 't=1767225600,v1=5f0c…'
 */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * Check an `Andon-Signature` header against the raw body: the signature must match (compared in constant time) and
 * the timestamp must be within `toleranceSeconds` (default 300) of `nowSeconds`. Several `v1=` entries are allowed
 * (secret rotation); one match is enough.
 */
export function verifyWebhook(
  secret: string,
  body: string,
  header: string | null | undefined,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): VerifyResult {
  if (!header) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key, value]) => key === 'v1' && value).map(([, value]) => value!);
  if (!Number.isInteger(timestamp) || signatures.length === 0)
    return { ok: false, reason: 'malformed signature header' };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'timestamp outside the tolerance (a replayed or delayed request)' };
  }
  const expected = Buffer.from(signWebhook(secret, body, timestamp).split('v1=')[1]!, 'hex');
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { ok: true, timestamp } : { ok: false, reason: 'signature does not match' };
}
