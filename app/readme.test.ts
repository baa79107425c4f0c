import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { environment, environmentNames } from './config.ts';

describe('README', () => {
  it('starts with the two commands a new user needs', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const firstLines = readme.split('\n').slice(0, 6).join('\n');
    expect(firstLines).toContain('npm ci && npm start');
    expect(firstLines).toContain('npm test');
  });

  it('documents every environment variable with its default, and no other', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` *\| (`[^`]*`|\(unset\)) *\|/gm)];
    expect(rows.map((row) => row[1]).sort()).toEqual([...environmentNames].sort());
    for (const [, name, shown] of rows) {
      const spec = environment[name as keyof typeof environment];
      expect(shown, name).toBe(spec.default === undefined ? '(unset)' : `\`${spec.default}\``);
    }
  });
});
