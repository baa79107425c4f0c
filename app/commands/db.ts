import { join } from 'node:path';
import {
  backupEmbedded,
  backupServer,
  migrate,
  openDatabase,
  restoreEmbedded,
  restoreServer,
} from '../../store/index.ts';
import { loadConfig } from '../config.ts';
import { parseCommandLine } from './args.ts';
import type { Command } from './command.ts';

const usage = `andon db backup --file PATH          back up andon's database
andon db restore --file PATH [--force]   restore it (--force: move an existing embedded database aside)
andon db migrate                      apply pending schema migrations and list them

With DATABASE_URL set these use pg_dump / pg_restore (custom format) against that server; without it, the embedded
PGlite database in ANDON_DATA_DIR is dumped as a data-directory tarball (stop andon first: it allows one process).
A restored database from an older andon is migrated forward at the next start (or with \`andon db migrate\`).`;

export const command: Command = {
  name: 'db',
  summary: 'Database: db backup|restore --file PATH, db migrate',
  usage,
  async run(args) {
    const parsed = parseCommandLine(args, { file: { type: 'string' }, force: { type: 'boolean' } }, usage);
    if (typeof parsed === 'number') return parsed;
    const [verb, ...extra] = parsed.positionals;
    if (!verb || !['backup', 'restore', 'migrate'].includes(verb) || extra.length > 0) {
      console.error(
        `${verb ? `Unknown db command '${[verb, ...extra].join(' ')}'.` : 'Missing the db command.'}\n\n${usage}`,
      );
      return 2;
    }
    const file = parsed.values.file;
    if (verb !== 'migrate' && typeof file !== 'string') {
      console.error(`--file is required\n\n${usage}`);
      return 2;
    }
    const config = loadConfig();
    const dataDir = join(config.ANDON_DATA_DIR, 'pglite');
    if (verb === 'migrate') {
      const database = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir, migrate: false });
      try {
        const applied = await migrate(database);
        console.log(applied.length === 0 ? 'schema is up to date' : `applied ${applied.join(', ')}`);
        return 0;
      } finally {
        await database.close();
      }
    }
    const path = file as string;
    if (verb === 'backup') {
      const result = config.DATABASE_URL
        ? await backupServer(config.DATABASE_URL, path)
        : await backupEmbedded(dataDir, path);
      console.log(`backup written: ${result.file} (${result.kind}, ${result.bytes} bytes)`);
      return 0;
    }
    if (config.DATABASE_URL) {
      await restoreServer(config.DATABASE_URL, path);
      console.log(`restored ${path} into the database at DATABASE_URL; andon migrates it forward at its next start`);
    } else {
      const { movedAside } = await restoreEmbedded(dataDir, path, { force: parsed.values.force === true });
      console.log(
        `restored ${path} into ${dataDir}${movedAside ? ` (the previous database is kept in ${movedAside})` : ''}; andon migrates it forward at its next start`,
      );
    }
    return 0;
  },
};
