import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * Parse a command's flags the same way for every command: an unknown or malformed flag prints the problem and the
 * usage (exit 2), `--help` prints the usage (exit 0), and missing required flags are named (exit 2). Returns the
 * values, or the exit code to return.
 */
export function parseCommandArgs(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  usage: string,
  required: string[] = [],
): Record<string, string | boolean | undefined> | number {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    ({ values } = parseArgs({ args, options: { ...options, help: { type: 'boolean' } } }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const missing = required.filter((name) => values[name] === undefined);
  if (missing.length > 0) {
    console.error(
      `${missing.map((name) => `--${name}`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required\n\n${usage}`,
    );
    return 2;
  }
  return values as Record<string, string | boolean | undefined>;
}
