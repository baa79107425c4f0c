import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.ts';

const benchDir = fileURLToPath(new URL('../../bench/', import.meta.url));

/** Benchmark scripts in bench/: `bench/<name>.ts`, each printing its own figures. */
const available = (): string[] =>
  readdirSync(benchDir)
    .filter(
      (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.includes('-data') && !file.startsWith('_'),
    )
    .map((file) => file.slice(0, -3))
    .sort();

const runScript = (name: string, args: string[]): Promise<number> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${benchDir}${name}.ts`, ...args], { stdio: 'inherit' });
    child.once('exit', (code) => resolve(code ?? 1));
  });

export const command: Command = {
  name: 'bench',
  summary: 'Run a benchmark script from bench/ (figures with ratios against a baseline of the same run)',
  usage: 'andon bench <name> [--json] [options]   |   andon bench all   |   andon bench list',
  async run(args) {
    const [name, ...rest] = args;
    const names = available();
    if (!name || name === '--help' || name === 'list') {
      console.log(`usage: ${this.usage}\n\nbenchmarks: ${names.join(', ')}`);
      return name ? 0 : 2;
    }
    if (name === 'all') {
      let failures = 0;
      for (const each of names) {
        console.log(`\n## bench ${each}`);
        const code = await runScript(each, rest);
        if (code !== 0) failures += 1;
      }
      return failures === 0 ? 0 : 1;
    }
    if (!existsSync(`${benchDir}${name}.ts`)) {
      console.error(`andon bench: no benchmark "${name}"; benchmarks: ${names.join(', ')}`);
      return 2;
    }
    return runScript(name, rest);
  },
};
