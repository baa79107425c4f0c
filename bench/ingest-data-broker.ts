/** The embedded aedes broker for bench/ingest.ts, in its own process so it never shares the subscriber's event loop. */
import { startEmbeddedBroker } from '../connectors/mqtt/index.ts';

const broker = await startEmbeddedBroker({ port: 0 });
process.send?.({ url: broker.url });
process.on('disconnect', () => {
  void broker.close().then(() => process.exit(0));
});
