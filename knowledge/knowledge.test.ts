import { openDatabase } from '../store/db.ts';
import { knowledgeContract } from './knowledge.contract.ts';

knowledgeContract('PGlite', () => openDatabase({ dataDir: 'memory://' }));
