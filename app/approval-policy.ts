import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { AndonError, type ApprovalPolicy, parseApprovalPolicy } from '../core/index.ts';
import { createOidcApp, type OidcDeps } from '../server/index.ts';
import { type Config, publicUrl } from './config.ts';

/** The policy andon ships with (README, docs/governance.md). */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../deploy/policies/approval-policy.yaml', import.meta.url));

/** Read and validate the approval policy: APPROVAL_POLICY_FILE, else the shipped default. Fails fast and clearly. */
export function loadApprovalPolicy(path: string = DEFAULT_POLICY_FILE): ApprovalPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `Cannot read the approval policy ${path} (APPROVAL_POLICY_FILE): ${(error as Error).message}.`,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new AndonError('invalid_config', `Approval policy ${path} is not valid YAML: ${(error as Error).message}`);
  }
  return parseApprovalPolicy(document, path);
}

/** The OIDC single sign-on mount (/auth/oidc) when OIDC_ISSUER_URL is set; none otherwise. */
export function oidcMounts(
  config: Config,
  deps: Omit<OidcDeps, 'oidc' | 'sessionTtlHours' | 'secureCookies'>,
): Array<{ path: string; app: ReturnType<typeof createOidcApp> }> {
  if (!config.OIDC_ISSUER_URL) return [];
  if (!config.OIDC_CLIENT_ID || !config.OIDC_CLIENT_SECRET)
    throw new AndonError(
      'invalid_config',
      'OIDC_ISSUER_URL is set, so OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are needed too (see docs/governance.md).',
    );
  const base = publicUrl(config);
  return [
    {
      path: '/auth/oidc',
      app: createOidcApp({
        ...deps,
        oidc: {
          issuerUrl: config.OIDC_ISSUER_URL,
          clientId: config.OIDC_CLIENT_ID,
          clientSecret: config.OIDC_CLIENT_SECRET,
          redirectUrl: config.OIDC_REDIRECT_URL ?? `${base}/auth/oidc/callback`,
          rolesClaim: config.OIDC_ROLES_CLAIM,
        },
        sessionTtlHours: config.ANDON_SESSION_TTL_HOURS,
        secureCookies: base.startsWith('https://'),
      }),
    },
  ];
}
