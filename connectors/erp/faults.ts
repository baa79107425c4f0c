import { z } from 'zod';
import { AndonError } from '../../core/index.ts';

const Range = z.tuple([z.number().int().min(0).max(120_000), z.number().int().min(0).max(120_000)]);
const Rate = z.number().min(0).max(1);

/**
 * Faults the sandbox ERP injects, to show and test what andon does when an ERP misbehaves. Rates are probabilities
 * per request; ranges are uniform [min, max] milliseconds.
 */
export const SandboxFaults = z.object({
  /** Delay before the effect is recorded (the request may time out with no effect). */
  latencyMs: Range.default([0, 0]),
  /** Delay after the effect is recorded, before the answer (a timeout here leaves an effect andon has not seen). */
  responseDelayMs: Range.default([0, 0]),
  /** Answer 503 without an effect. */
  unavailableRate: Rate.default(0),
  /** Answer 429 with Retry-After, without an effect. */
  rateLimitRate: Rate.default(0),
  retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
  /** Record the effect, then answer 200 with a body that is not JSON (a lost or mangled answer). */
  malformedRate: Rate.default(0),
  /** Answer the next N requests with 503, then behave (deterministic, for tests and demos). */
  failNext: z.number().int().min(0).default(0),
});
export type SandboxFaults = z.infer<typeof SandboxFaults>;
export type SandboxFaultsInput = z.input<typeof SandboxFaults>;

export const noFaults = (): SandboxFaults => SandboxFaults.parse({});

const range = (text: string): [number, number] => {
  const [low, high] = text.split('-').map(Number);
  return [low ?? 0, high ?? low ?? 0];
};

/**
 * Parse the SANDBOX_ERP_FAULTS spec: comma-separated `name=value`, e.g.
 * `latency=50-400,delay=50-400,503=0.1,429=0.05,retry-after=2,malformed=0.02,fail-next=3`.
 */
export function parseFaultSpec(spec: string | undefined): SandboxFaults {
  if (!spec?.trim()) return noFaults();
  const input: Record<string, unknown> = {};
  for (const part of spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [name, value = ''] = part.split('=', 2).map((item) => item.trim()) as [string, string?];
    switch (name) {
      case 'latency':
        input.latencyMs = range(value);
        break;
      case 'delay':
        input.responseDelayMs = range(value);
        break;
      case '503':
        input.unavailableRate = Number(value);
        break;
      case '429':
        input.rateLimitRate = Number(value);
        break;
      case 'retry-after':
        input.retryAfterSeconds = Number(value);
        break;
      case 'malformed':
        input.malformedRate = Number(value);
        break;
      case 'fail-next':
        input.failNext = Number(value);
        break;
      default:
        throw new AndonError(
          'invalid_config',
          `SANDBOX_ERP_FAULTS: unknown fault "${name}"; use latency, delay, 503, 429, retry-after, malformed or fail-next.`,
        );
    }
  }
  const parsed = SandboxFaults.safeParse(input);
  if (!parsed.success) {
    throw new AndonError('invalid_config', `SANDBOX_ERP_FAULTS="${spec}" is invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
