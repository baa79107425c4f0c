import { loadConfig } from '../config.ts';
import { startAndon } from '../runtime.ts';
import type { Command } from './command.ts';

export const command: Command = {
  name: 'start',
  summary: 'Run andon: web UI and API, MQTT ingest, detectors, triage, outbox (and the demo simulator)',
  usage: 'andon start            (configure with environment variables; see README)',
  async run(args) {
    if (args.includes('--help')) {
      console.log(this.usage);
      return 0;
    }
    const config = loadConfig();
    // Logs are JSON lines (pino) at LOG_LEVEL, with case, graph thread and trace ids.
    const andon = await startAndon(config);
    console.log(`\n  Open ${andon.url} and sign in (demo users are listed in the README).\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.log('stopping…');
    await andon.close();
    return 0;
  },
};
