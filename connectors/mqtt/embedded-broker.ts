import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { AndonError } from '../../core/index.ts';

export interface EmbeddedBrokerOptions {
  /** Interface to bind; loopback by default so the zero-setup broker is never reachable from the network. */
  host?: string;
  /** TCP port; 0 picks a free port (the real one is in the result). Never 1883, which belongs to a real broker. */
  port: number;
}

export interface EmbeddedBroker {
  /** `mqtt://host:port`, ready for `startMqttIngest({ url })` and the simulator. */
  url: string;
  port: number;
  /** aedes speaks MQTT 3.1.1 only: pass this to MQTT clients of this broker. */
  protocolVersion: 4;
  close(): Promise<void>;
}

/**
 * Start the zero-setup MQTT broker (aedes, MQTT 3.1.1, in-memory persistence) on loopback.
 * With `MQTT_URL` set, andon uses that broker instead and this never runs.
 *
 * @example
 * const broker = await startEmbeddedBroker({ port: 0 });
 * const ingest = await startMqttIngest({ url: broker.url, protocolVersion: broker.protocolVersion, ... });
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that vanishes mid-packet must not take the broker down.
    socket.on('error', () => socket.destroy());
    broker.handle(socket);
  });
  try {
    server.listen(options.port, host);
    await once(server, 'listening');
  } catch (error) {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    const code = (error as NodeJS.ErrnoException).code;
    throw new AndonError(
      'unavailable',
      code === 'EADDRINUSE'
        ? `The embedded MQTT broker cannot listen on ${host}:${options.port}: the port is in use. Set MQTT_EMBEDDED_PORT to a free port, or MQTT_URL to use a running broker.`
        : `The embedded MQTT broker cannot listen on ${host}:${options.port} (${String(error)}).`,
      { retryable: code === 'EADDRINUSE', cause: error },
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://${urlHost}:${port}`,
    port,
    protocolVersion: 4,
    close() {
      closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => broker.close(() => resolve()));
        await serverClosed;
      })();
      return closing;
    },
  };
}
