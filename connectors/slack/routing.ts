import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AndonError, type Case, Severity } from '../../core/index.ts';

const ChannelId = z.string().regex(/^[CGD][A-Z0-9]{2,}$/, 'a Slack channel id such as C0123ABCD (not a #name)');

const Route = z
  .object({
    /** Match on the case's area (e.g. `packaging`)… */
    area: z.string().min(1).optional(),
    /** …or on its line (e.g. `packaging.line1`); a line route wins over an area route. */
    line: z.string().min(1).optional(),
    channel: ChannelId,
    /** Cases below this severity are not posted. */
    minSeverity: Severity.default('low'),
    /** This channel's own alarm budget (default: the top-level budget). */
    budget: z
      .object({ messages: z.number().int().min(1).max(1000), windowMinutes: z.number().min(1).max(1440).default(10) })
      .optional(),
  })
  .refine((route) => route.area !== undefined || route.line !== undefined, 'a route names an area or a line');

/** Where case notifications go, and how many a channel takes before a flood turns into one digest. */
export const SlackRouting = z.object({
  /** Cases no route matches; unset means they are not posted. */
  default: z.object({ channel: ChannelId, minSeverity: Severity.default('low') }).optional(),
  routes: z.array(Route).default([]),
  budget: z
    .object({
      /** Case messages a channel receives per window; more cases in the window go into one digest message. */
      messages: z.number().int().min(1).max(1000).default(5),
      windowMinutes: z
        .number()
        .min(1)
        .max(24 * 60)
        .default(10),
    })
    .prefault({}),
});
export type SlackRouting = z.infer<typeof SlackRouting>;

const rank: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The channel a case goes to, or null when no route matches or the case is below the route's threshold. */
export function routeCase(
  routing: SlackRouting,
  item: Pick<Case, 'area' | 'severity' | 'context' | 'tags'>,
): { channel: string; matched: string; budget: { messages: number; windowMinutes: number } } | null {
  const line = item.context.line ?? null;
  const area = item.area ?? item.context.area ?? null;
  const byLine = line ? routing.routes.find((route) => route.line === line) : undefined;
  const byTag = routing.routes.find(
    (route) =>
      route.line !== undefined && item.tags.some((tag) => tag === route.line || tag.startsWith(`${route.line}.`)),
  );
  const byArea = area ? routing.routes.find((route) => route.line === undefined && route.area === area) : undefined;
  const route = byLine ?? byTag ?? byArea;
  const chosen = route
    ? {
        channel: route.channel,
        minSeverity: route.minSeverity,
        matched: route.line ?? route.area ?? '',
        budget: route.budget ?? routing.budget,
      }
    : routing.default
      ? { ...routing.default, matched: 'default', budget: routing.budget }
      : null;
  if (!chosen || rank[item.severity] < rank[chosen.minSeverity]) return null;
  return { channel: chosen.channel, matched: chosen.matched, budget: chosen.budget };
}

/**
 * Routing from SLACK_ROUTING (a YAML file) and SLACK_CHANNEL (the default channel when the file names none).
 * @example
 * ```yaml
 * default: { channel: C0QUALITY, minSeverity: high }
 * routes:
 *   - { line: packaging.line1, channel: C0LINE1, minSeverity: medium }
 *   - { area: packaging, channel: C0PACKAGING }
 * budget: { messages: 5, windowMinutes: 10 }
 * ```
 */
export async function loadSlackRouting(options: {
  file?: string | undefined;
  defaultChannel?: string | undefined;
}): Promise<SlackRouting> {
  let input: unknown = {};
  if (options.file) {
    try {
      input = parseYaml(await readFile(options.file, 'utf8')) ?? {};
    } catch (cause) {
      throw new AndonError(
        'invalid_config',
        `Cannot read SLACK_ROUTING ${options.file}: ${(cause as Error).message}. Point it at a routing YAML (docs/slack.md).`,
        { cause },
      );
    }
  }
  const parsed = SlackRouting.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new AndonError(
      'invalid_config',
      `SLACK_ROUTING ${options.file ?? ''} is not valid: ${problems.join('; ')}. See docs/slack.md.`,
    );
  }
  const routing = parsed.data;
  if (!routing.default && options.defaultChannel) {
    routing.default = { channel: ChannelId.parse(options.defaultChannel), minSeverity: 'low' };
  }
  return routing;
}
