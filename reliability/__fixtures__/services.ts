import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import pg from 'pg';

const execFileAsync = promisify(execFile);

export const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address !== null ? address.port : 0;
};

const which = (command: string): string => {
  try {
    return execFileSync('sh', ['-c', `command -v ${command} || ls /usr/sbin/${command}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A mosquitto of our own on a free loopback port, with persistence (never the machine's shared broker, which other
 * tests use). `restart` stops it cleanly (it writes its persistence file) and starts it again after a pause.
 */
export async function startOwnMosquitto() {
  const binary = which('mosquitto');
  if (!binary) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const directory = mkdtempSync(join(tmpdir(), 'andon-reliability-mosquitto-'));
  chmodSync(directory, 0o777); // mosquitto started as root drops to the mosquitto user
  const port = await freePort();
  writeFileSync(
    join(directory, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${directory}/`,
      'max_queued_messages 0',
      'max_inflight_messages 100',
    ].join('\n'),
  );
  const url = `mqtt://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(binary, ['-c', join(directory, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'ignore'] });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        const probe = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 });
        await probe.endAsync();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error('mosquitto did not start');
  };
  const stop = async () => {
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  await start();
  return {
    url,
    stop,
    start,
    async close() {
      await stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

const pgBin = (name: string): string => {
  for (const dir of ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin']) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return which(name);
};

/**
 * A PostgreSQL cluster of our own (initdb in a temp directory, a free port, run as the postgres user when we are
 * root), so that restarting it cannot disturb the shared server other tests use. pgvector comes from the installed
 * server's extension directory.
 */
export async function startOwnPostgres() {
  const initdb = pgBin('initdb');
  const pgCtl = pgBin('pg_ctl');
  if (!initdb || !pgCtl) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) are not installed');
  const directory = mkdtempSync(join(tmpdir(), 'andon-reliability-pg-'));
  chmodSync(directory, 0o777);
  const data = join(directory, 'data');
  const port = await freePort();
  const asPostgres = process.getuid?.() === 0;
  // async: the andon under test runs in this process, and a blocked event loop would be a fault of its own
  const run = (command: string, args: string[]) =>
    asPostgres ? execFileAsync('runuser', ['-u', 'postgres', '--', command, ...args]) : execFileAsync(command, args);
  await run(initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8']);
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () => run(pgCtl, ['-D', data, '-o', options, '-l', join(directory, 'log'), '-w', 'start']);
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('create extension if not exists vector');
  await client.end();
  return {
    url,
    /** A fast restart: connections are cut, the server is back after `pauseMs`. */
    async restart(pauseMs: number) {
      await run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      await sleep(pauseMs);
      await start();
    },
    async close() {
      try {
        await run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
