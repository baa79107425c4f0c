import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { AndonError, type ApprovalPolicy, parseApprovalPolicy } from '../core/index.ts';

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
