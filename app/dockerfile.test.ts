import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8')) as {
  services: Record<string, { image?: string }>;
};

/** The Dockerfile's instructions, with `\` continuations joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

describe('Dockerfile', () => {
  it('installs a pg_dump at least as new as the compose file’s PostgreSQL, so andon db backup works in the image', () => {
    const pgMajor = Number(/^ARG PG_MAJOR=(\d+)$/m.exec(dockerfile)?.[1]);
    const serverImage = compose.services.postgres?.image ?? '';
    const serverMajor = Number(/:pg(\d+)/.exec(serverImage)?.[1]);
    expect(serverMajor, `postgres image ${serverImage}`).toBeGreaterThanOrEqual(15);
    // pg_dump refuses to dump a server newer than itself
    expect(pgMajor).toBeGreaterThanOrEqual(serverMajor);
    const install = instructions.find(
      (line) => line.startsWith('RUN') && /postgresql-client-\$\{PG_MAJOR\}/.test(line),
    );
    expect(install, 'a RUN that installs postgresql-client-$PG_MAJOR').toBeDefined();
    expect(install).toContain('rm -rf /var/lib/apt/lists/*');
    expect(install).toMatch(/pg_dump --version/);
  });

  it('builds in stages and runs as the unprivileged node user', () => {
    expect(instructions.filter((line) => line.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(instructions).toContain('COPY --from=dependencies /app/node_modules ./node_modules');
    const user = instructions.findLast((line) => line.startsWith('USER '));
    expect(user).toBe('USER node');
    const cmd = instructions.findLast((line) => line.startsWith('CMD '));
    expect(instructions.indexOf(user!)).toBeLessThan(instructions.indexOf(cmd!));
  });
});
