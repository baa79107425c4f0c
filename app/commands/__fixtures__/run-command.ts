/** Run a CLI command in-process and capture what it prints (stdout and stderr) and its exit code. */
import { vi } from 'vitest';
import type { Command } from '../command.ts';

export async function runCommand(
  command: Command,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += `${parts.map(String).join(' ')}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    stderr += `${parts.map(String).join(' ')}\n`;
  });
  try {
    const code = await command.run(args);
    return { code, stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}
