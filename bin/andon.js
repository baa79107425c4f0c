#!/usr/bin/env node
// The andon CLI. TypeScript runs directly through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../app/cli.ts');
process.exitCode = await main(process.argv.slice(2));
