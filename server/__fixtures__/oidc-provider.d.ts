/** The small part of oidc-provider 8 (no bundled types) the OIDC tests use. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account {
    accountId: string;
    claims(): Promise<Record<string, unknown>>;
  }
  export default class Provider {
    constructor(
      issuer: string,
      configuration: {
        clients: Array<Record<string, unknown>>;
        claims?: Record<string, string[]>;
        findAccount?: (context: unknown, id: string) => Promise<Account | undefined>;
        cookies?: { keys: string[] };
        ttl?: Record<string, number>;
        [option: string]: unknown;
      },
    );
    callback(): (request: IncomingMessage, response: ServerResponse) => void;
  }
}
