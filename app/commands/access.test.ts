import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUserStore, openDatabase } from '../../store/index.ts';
import { command } from './access.ts';

/** Run `andon access ...` in-process, quietly. */
async function access(...args: string[]): Promise<number> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    return await command.run(args);
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

describe('andon access (admin-managed scopes, linked accounts, OIDC group mappings)', { timeout: 120_000 }, () => {
  let directory: string;
  const withUsers = async <T>(work: (users: ReturnType<typeof createUserStore>) => Promise<T>) => {
    const database = await openDatabase({ dataDir: join(directory, 'pglite') });
    try {
      return await work(createUserStore(database));
    } finally {
      await database.close();
    }
  };

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'andon-access-'));
    vi.stubEnv('ANDON_DATA_DIR', directory);
    vi.stubEnv('DATABASE_URL', '');
    await withUsers(async (users) => {
      await users.create({ username: 'quinn', displayName: 'Quinn', roles: ['quality_lead'] });
      await users.create({ username: 'quinn-sso', displayName: 'Quinn (SSO)', roles: ['quality_lead'] });
    });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(directory, { recursive: true, force: true });
  });

  it('scopes a role to an area, refuses a scope for a role the user lacks, and clears scopes', async () => {
    expect(await access('scope', '--user', 'quinn', '--grant', 'quality_lead@area-packaging')).toBe(0);
    const quinn = await withUsers((users) => users.byUsername('quinn'));
    expect(quinn?.scopes).toEqual(['quality_lead@area-packaging']);
    await expect(access('scope', '--user', 'quinn', '--grant', 'supervisor@area-packaging')).rejects.toThrow(
      /does not hold supervisor/,
    );
    expect(await access('scope', '--user', 'quinn')).toBe(0);
    expect((await withUsers((users) => users.byUsername('quinn')))?.scopes).toEqual([]);
  });

  it('links two accounts into one person and maps an identity-provider group to a scoped role', async () => {
    expect(await access('link', '--user', 'quinn', '--with', 'quinn-sso')).toBe(0);
    const [a, b] = await withUsers(async (users) => [
      await users.personKey((await users.byUsername('quinn'))!.id),
      await users.personKey((await users.byUsername('quinn-sso'))!.id),
    ]);
    expect(a).toBe(b);
    expect(await access('oidc-map', '--claim', 'qa-packaging', '--grant', 'quality_lead@area-packaging')).toBe(0);
    expect(await withUsers((users) => users.oidcClaimMappings())).toEqual(
      new Map([['qa-packaging', ['quality_lead@area-packaging']]]),
    );
    await expect(access('oidc-map', '--claim', 'x', '--grant', 'wizard')).rejects.toThrow(/Unknown role wizard/);
    expect(await access('oidc-unmap', '--claim', 'qa-packaging')).toBe(0);
    expect((await withUsers((users) => users.oidcClaimMappings())).size).toBe(0);
    expect(await access('frobnicate')).toBe(2);
    expect(await access('link', '--user', 'quinn')).toBe(2);
  });
});
