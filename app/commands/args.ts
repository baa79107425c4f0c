import { type ParseArgsConfig, parseArgs } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;
export type CommandValues = Record<string, string | boolean | undefined>;

/**
 * Parse a command line the same way for every command: an unknown or malformed flag prints the problem and the
 * usage (exit 2), `--help` prints the usage (exit 0), and missing required flags are named (exit 2). Returns the
 * flag values and the positional words (verbs, ids, paths), or the exit code to return.
 */
export function parseCommandLine(
  args: string[],
  options: Options,
  usage: string,
  required: string[] = [],
): { values: CommandValues; positionals: string[] } | number {
  let parsed: { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { ...options, help: { type: 'boolean' } } });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  const missing = required.filter((name) => parsed.values[name] === undefined);
  if (missing.length > 0) {
    console.error(
      `${missing.map((name) => `--${name}`).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required\n\n${usage}`,
    );
    return 2;
  }
  return { values: parsed.values as CommandValues, positionals: parsed.positionals };
}

/** {@link parseCommandLine} for commands that take flags only: a stray positional word is an error. */
export function parseCommandArgs(
  args: string[],
  options: Options,
  usage: string,
  required: string[] = [],
): CommandValues | number {
  const parsed = parseCommandLine(args, options, usage, required);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 0) {
    console.error(`Unexpected argument '${parsed.positionals[0]}': this command takes flags only.\n\n${usage}`);
    return 2;
  }
  return parsed.values;
}
