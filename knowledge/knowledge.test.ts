import { openDatabase } from '../store/index.ts';
import { knowledgeContract } from './knowledge.contract.ts';

knowledgeContract('PGlite', () => openDatabase({ dataDir: 'memory://' }));
