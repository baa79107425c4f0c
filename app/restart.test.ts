import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from './__fixtures__/wait-for.ts';

/** Start `andon start` as a real process and wait until it serves. */
async function launch(
  dataDir: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['bin/andon.js', 'start'], {
    env: { ...process.env, PORT: '0', ANDON_DATA_DIR: dataDir, MQTT_EMBEDDED_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`andon did not start:\n${output}`)), 180_000);
    const check = () => {
      const match = output.match(/andon is running at (http:\/\/[^\s"]+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`andon exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

async function login(url: string): Promise<string> {
  const response = await fetch(`${url}/login`, {
    method: 'POST',
    body: new URLSearchParams({ username: 'quality', password: 'andon-quality', next: '/' }),
    redirect: 'manual',
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`login failed with ${response.status}`);
  return cookie;
}

describe('kill -9 while an approval is pending', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  it('keeps the case pending across the crash, and approving after the restart completes the graph', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'andon-restart-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));

    const first = await launch(dataDir, { SIMULATOR: 'true', SIMULATOR_SPEED: '40' });
    cleanup.push(async () => void first.child.kill('SIGKILL'));
    const cookie = await login(first.url);
    const pending = await waitFor(
      'a case awaiting approval',
      async () => {
        const response = await fetch(`${first.url}/api/v1/cases?status=awaiting_approval`, { headers: { cookie } });
        const { cases } = (await response.json()) as { cases: Array<{ id: string }> };
        return cases[0];
      },
      180_000,
    );
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = await launch(dataDir, { SIMULATOR: 'false' });
    cleanup.push(async () => void second.child.kill('SIGKILL'));
    const cookie2 = await login(second.url);
    // The restarted process recovers the case's thread at start; a kill that came before the gate's checkpoint means
    // the graph runs up to the gate again first, so wait for the decision form rather than race the recovery.
    const page = await waitFor(
      'the decision form after the restart',
      async () => {
        const html = await (await fetch(`${second.url}/cases/${pending.id}`, { headers: { cookie: cookie2 } })).text();
        return /name="recordHash"/.test(html) ? html : undefined;
      },
      30_000,
    ).catch(async () => (await fetch(`${second.url}/cases/${pending.id}`, { headers: { cookie: cookie2 } })).text());
    expect(page).toContain('awaiting approval');
    const csrf = page.match(/name="_csrf" value="([^"]+)"/)?.[1];
    const recordHash = page.match(/name="recordHash" value="([^"]+)"/)?.[1];
    expect(csrf, 'the decision form is offered after the restart').toBeTruthy();

    const signed = await fetch(`${second.url}/cases/${pending.id}/decision`, {
      method: 'POST',
      headers: { cookie: cookie2 },
      body: new URLSearchParams({
        _csrf: csrf!,
        recordHash: recordHash!,
        decision: 'approve',
        comment: 'after restart',
        password: 'andon-quality',
      }),
      redirect: 'manual',
    });
    expect(signed.status).toBe(303);
    const closed = await waitFor(
      'the case to close',
      async () => {
        const response = await fetch(`${second.url}/api/v1/cases/${pending.id}`, { headers: { cookie: cookie2 } });
        const body = (await response.json()) as {
          case: { status: string };
          executions: Array<{ status: string }>;
          audit: Array<{ action: string }>;
        };
        return body.case.status === 'closed' ? body : null;
      },
      180_000,
    );
    expect(closed.executions.length).toBeGreaterThan(0);
    expect(closed.executions.every((execution) => execution.status === 'succeeded')).toBe(true);
    expect(closed.audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['approval.signed', 'actions.handed_to_outbox', 'action.executed', 'case.closed']),
    );
    second.child.kill('SIGTERM');
    await new Promise((resolve) => second.child.once('exit', resolve));
  }, 600_000); // deadlines only: a quiet machine takes ~20 s, one at load 30 took over 90 s to start andon
});
