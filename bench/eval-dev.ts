/**
 * The eval gates CI runs: the fixture set in the repository always, and the FDA drug-recall dev set when ../shared is
 * present. Each goes through `andon eval` exactly as a person would run it, with its thresholds.
 *
 * usage: tsx bench/eval-dev.ts [--fixture-only] [--output-dir DIR]
 * Exit code 1 when a gate fails (the failing metrics are named on stderr).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { main as andon } from '../app/index.ts';

const root = new URL('..', import.meta.url).pathname;
const fixtures = join(root, 'eval', '__fixtures__');
const fda = join(root, '..', 'shared', 'benchdata', 'fda-recalls');

/** Thresholds a few points under the measured figures, so noise-free regressions fail and nothing else does. */
const gates = {
  fixture: ['--min', 'top3=0.6', '--min', 'citation_validity=1', '--min', 'capa_completeness=1'],
  dev: [
    '--min',
    'top1=0.33',
    '--min',
    'top3=0.57',
    '--min',
    'mrr5=0.46',
    '--min',
    'hard:top1=0.28',
    '--min',
    'citation_validity=1',
  ],
};

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'fixture-only': { type: 'boolean', default: false },
      'output-dir': { type: 'string', default: join(root, '.andon', 'eval') },
    },
  });
  const out = values['output-dir'];
  let failed = 0;
  const fixture = await andon([
    'eval',
    ...['--cases', join(fixtures, 'cases.jsonl'), '--kb', join(fixtures, 'kb.jsonl')],
    ...['--categories', join(fixtures, 'categories.json'), '--sops', join(fixtures, 'sops')],
    ...['--safety', '--no-store', '--output', join(out, 'fixture-report.json'), ...gates.fixture],
  ]);
  if (fixture !== 0) failed++;
  if (!values['fixture-only'] && (await exists(join(fda, 'cases.jsonl')))) {
    const dev = await andon([
      'eval',
      ...['--cases', join(fda, 'cases.jsonl'), '--kb', join(fda, 'kb.jsonl')],
      ...['--categories', join(fda, 'categories.json'), '--safety', '--no-store'],
      ...['--output', join(out, 'dev-report.json'), ...gates.dev],
    ]);
    if (dev !== 0) failed++;
  } else if (!values['fixture-only']) {
    console.log(`eval: ${fda} is not present; only the fixture gate ran.`);
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
