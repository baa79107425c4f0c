import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandArgs, parseCommandLine } from './args.ts';

const options = { limit: { type: 'string' }, json: { type: 'boolean' } } as const;

describe('command-line parsing shared by every command', () => {
  const errors: string[] = [];
  const printed: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
  vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
  afterEach(() => {
    errors.length = 0;
    printed.length = 0;
  });

  it('returns flags and positional words', () => {
    expect(parseCommandLine(['show', 'ACT-1', '--json', '--limit', '5'], options, 'usage: x')).toEqual({
      values: { json: true, limit: '5' },
      positionals: ['show', 'ACT-1'],
    });
  });

  it('names an unknown flag and prints the usage with exit code 2', () => {
    expect(parseCommandLine(['--bogus'], options, 'usage: x')).toBe(2);
    expect(errors.join('\n')).toMatch(/Unknown option '--bogus'[\s\S]*usage: x/);
  });

  it('prints the usage for --help with exit code 0', () => {
    expect(parseCommandArgs(['--help'], options, 'usage: x')).toBe(0);
    expect(printed).toEqual(['usage: x']);
  });

  it('names every missing required flag', () => {
    expect(parseCommandArgs([], options, 'usage: x', ['limit', 'json'])).toBe(2);
    expect(errors[0]).toMatch(/^--limit and --json are required/);
  });

  it('refuses a stray positional word for a flags-only command', () => {
    expect(parseCommandArgs(['oops'], options, 'usage: x')).toBe(2);
    expect(errors[0]).toMatch(/Unexpected argument 'oops'/);
  });
});
