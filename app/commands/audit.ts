import { loadConfig } from '../config.ts';
import { openStores } from '../runtime.ts';
import type { Command } from './command.ts';

export const command: Command = {
  name: 'audit',
  summary: 'Verify the hash chain of the audit log and name the first broken link',
  usage: 'andon audit verify',
  async run(args) {
    if (args[0] !== 'verify') {
      console.error(`usage: ${this.usage}`);
      return args.includes('--help') ? 0 : 2;
    }
    const stores = await openStores(loadConfig());
    try {
      const result = await stores.audit.verify();
      if (result.ok) {
        console.log(`audit chain ok: ${result.entries} entries verified`);
        return 0;
      }
      console.error(`audit chain BROKEN at entry ${result.firstBroken!.seq}: ${result.firstBroken!.reason}`);
      return 1;
    } finally {
      await stores.database.close();
    }
  },
};
