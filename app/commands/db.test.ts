import { describe, expect, it, vi } from 'vitest';
import { command } from './db.ts';

describe('andon db', () => {
  it('names what is missing: the verb or --file', async () => {
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await command.run([])).toBe(2);
      expect(await command.run(['vacuum'])).toBe(2);
      expect(await command.run(['backup'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors[0]).toMatch(/Missing the db command/);
    expect(errors[1]).toMatch(/Unknown db command 'vacuum'/);
    expect(errors[2]).toMatch(/--file is required/);
  });
});
