import { isAndonError } from '../core/index.ts';
import type { Command } from './commands/command.ts';

/** Sub-commands, loaded on demand so `andon --help` stays fast. */
const commands: Record<string, { summary: string; load: () => Promise<{ command: Command }> }> = {
  start: {
    summary: 'Run andon (web UI, API, ingest, detectors, triage, outbox, demo simulator)',
    load: () => import('./commands/start.ts'),
  },
  token: {
    summary: 'Create an API token: token create --user NAME [--role ROLE]',
    load: () => import('./commands/token.ts'),
  },
  audit: { summary: 'Verify the audit log hash chain: audit verify', load: () => import('./commands/audit.ts') },
  access: {
    summary: 'Role scopes, linked accounts and OIDC group mappings (admin): access scope|link|oidc-map',
    load: () => import('./commands/access.ts'),
  },
  case: {
    summary: 'Export an inspection-ready bundle of a case: case export <id> [--output DIR]',
    load: () => import('./commands/case.ts'),
  },
  slack: {
    summary: 'Link Slack users to andon users: slack map|unmap|users',
    load: () => import('./commands/slack.ts'),
  },
  simulate: {
    summary: 'Run the plant simulator (MQTT, Sparkplug B, OPC UA, CSV replay)',
    load: () => import('./commands/simulate.ts'),
  },
  opcua: {
    summary: 'OPC UA tools: opcua browse <endpoint> writes a tag config',
    load: () => import('./commands/opcua.ts'),
  },
  calibrate: {
    summary: 'Phase I calibration from history into detectors.yaml',
    load: () => import('./commands/calibrate.ts'),
  },
  backtest: {
    summary: 'Run the detectors over a CSV and write one JSON line per row',
    load: () => import('./commands/backtest.ts'),
  },
  kb: {
    summary: 'Knowledge base: kb add|list|show|remove|search|reembed',
    load: () => import('./commands/kb.ts'),
  },
  alarms: {
    summary: 'Alarm management: alarms report (ISA-18.2 KPIs), list, requests, false-alarm rates',
    load: () => import('./commands/alarms.ts'),
  },
  actions: {
    summary: 'Approved actions: list, show, replay dead letters, check an actions config',
    load: () => import('./commands/actions.ts'),
  },
  eval: {
    summary: 'Regression evals: eval --cases --kb --output; eval compare; eval export-cases',
    load: () => import('./commands/eval.ts'),
  },
  db: {
    summary: 'Database: db backup|restore --file PATH (pg_dump or the embedded data directory), db migrate',
    load: () => import('./commands/db.ts'),
  },
  bench: {
    summary: 'Benchmarks that print figures: bench detection|all [--json]',
    load: () => import('./commands/bench.ts'),
  },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return [
    'andon: manufacturing variance control',
    '',
    'usage: npx andon <command> [options]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`),
    '',
    'Run `npx andon <command> --help` for a command’s options. Configuration: environment variables (README).',
  ].join('\n');
}

/** Entry point of the `andon` bin. Returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(helpText());
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`andon: unknown command "${name}".\n\n${helpText()}`);
    return 2;
  }
  try {
    const { command } = await entry.load();
    return await command.run(rest);
  } catch (error) {
    if (isAndonError(error)) {
      console.error(`andon ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
