import { governanceStores } from './__fixtures__/governance.ts';
import { signingSuite } from './__fixtures__/signing-suite.ts';

/**
 * Segregation of duties, the two-person rule (also across a person's web and Slack accounts), role scopes and the
 * approval policy, through decide() on real stores. The graph is represented by what reaches its gate.
 */
signingSuite('PGlite', () => governanceStores('security-decisions'));
