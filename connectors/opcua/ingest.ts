import { join } from 'node:path';
import {
  AttributeIds,
  type ClientSession,
  type ClientSubscription,
  DataChangeFilter,
  DataChangeTrigger,
  type DataValue,
  DeadbandType,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  type UserIdentityInfo,
  UserTokenType,
} from 'node-opcua';
import { AndonError, type Reading } from '../../core/index.ts';
import {
  type OpcuaAuth,
  type OpcuaDeadLetter,
  type OpcuaHealthEvent,
  type OpcuaSecurity,
  OpcuaTag,
  type OpcuaTagInput,
  qualityFromStatusCode,
} from './config.ts';

export interface OpcuaIngestOptions {
  endpoint: string;
  security?: OpcuaSecurity;
  auth?: OpcuaAuth;
  tags: OpcuaTagInput[];
  /** Holds the client certificate and the trust store (`<dataDir>/opcua-pki`). */
  pkiFolder: string;
  /**
   * Trust a server certificate seen for the first time (and remember it). Default: only with security mode None;
   * with Sign / SignAndEncrypt, move the server certificate into `<pkiFolder>/trusted/certs` instead.
   */
  trustUnknownServerCertificates?: boolean;
  publishingIntervalMs?: number;
  /** After a reconnect or a pause, read the missed samples from the server's history. Default true. */
  backfill?: boolean;
  /** Never backfill further back than this. Default 1 hour. */
  maxBackfillMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** Readings held before ingest pauses publishing (and backfills on resume). Default 10,000. */
  maxQueuedReadings?: number;
  applicationName?: string;
  onReadings(readings: Reading[]): Promise<void> | void;
  onHealth?(event: OpcuaHealthEvent): void;
  onDeadLetter?(letter: OpcuaDeadLetter): Promise<void> | void;
  log?(line: string): void;
}

export interface OpcuaIngestStats {
  readings: number;
  /** Readings recovered by history read after a gap. */
  backfilled: number;
  /** Gaps that could not be filled, reported as `data-gap` health events. */
  gaps: number;
  reconnects: number;
  /** Samples already delivered (same or older source time), dropped. */
  duplicates: number;
  deadLetters: number;
  queued: number;
  pauses: number;
}

export interface OpcuaIngest {
  stats(): OpcuaIngestStats;
  connected(): boolean;
  close(): Promise<void>;
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isPromise = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'bigint') return Number(value);
  // Int64 / UInt64 arrive as [high, low] 32-bit words.
  if (Array.isArray(value) && value.length === 2 && value.every((word) => typeof word === 'number')) {
    return (value[0] as number) * 2 ** 32 + (value[1] as number);
  }
  return undefined;
}

/** The OPC UA user identity token for an auth config: anonymous, user name and password, or an X.509 certificate. */
export async function userIdentity(auth: OpcuaAuth): Promise<UserIdentityInfo> {
  switch (auth.type) {
    case 'anonymous':
      return { type: UserTokenType.Anonymous };
    case 'username':
      return { type: UserTokenType.UserName, userName: auth.username, password: auth.password };
    case 'certificate': {
      const { readCertificate, readPrivateKeyPEM } = await import('node-opcua-crypto');
      return {
        type: UserTokenType.Certificate,
        certificateData: readCertificate(auth.certificateFile),
        privateKey: readPrivateKeyPEM(auth.privateKeyFile),
      } as UserIdentityInfo;
    }
  }
}

/**
 * Subscribe to OPC UA variables and hand their values to `onReadings` as readings with source and server timestamps
 * and a quality from the StatusCode. Reconnects with backoff and re-subscribes; after a gap it backfills through
 * history read, and reports what it cannot fill as a `data-gap` health event, never skipping silently.
 *
 * @example
 * const ingest = await startOpcuaIngest({
 *   endpoint: 'opc.tcp://127.0.0.1:4840/UA/andon', pkiFolder: '.andon/data/opcua-pki',
 *   tags: [{ tag: 'packaging.line1.seal_temperature', nodeId: 'ns=1;s=packaging.line1.seal_temperature' }],
 *   onReadings: (readings) => { for (const reading of readings) bank.step(reading); },
 * });
 */
export async function startOpcuaIngest(options: OpcuaIngestOptions): Promise<OpcuaIngest> {
  const tags = options.tags.map((input, index) => {
    const parsed = OpcuaTag.safeParse(input);
    if (!parsed.success) {
      throw new AndonError(
        'invalid_config',
        `OPC UA tag #${index + 1} is invalid (${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}).`,
      );
    }
    return parsed.data;
  });
  if (tags.length === 0) throw new AndonError('invalid_config', 'OPC UA ingest needs at least one tag.');
  const security = options.security ?? { mode: 'None', policy: 'None' };
  const auth = options.auth ?? { type: 'anonymous' };
  const log = options.log ?? ((line: string) => console.log(line));
  const backfillEnabled = options.backfill ?? true;
  const maxBackfillMs = options.maxBackfillMs ?? 3_600_000;
  const reconnectInitial = options.reconnectInitialMs ?? 500;
  const reconnectMax = options.reconnectMaxMs ?? 30_000;
  const maxQueued = options.maxQueuedReadings ?? 10_000;
  const certificateManager = new OPCUACertificateManager({
    rootFolder: options.pkiFolder,
    automaticallyAcceptUnknownCertificate: options.trustUnknownServerCertificates ?? security.mode === 'None',
  });

  const stats: Omit<OpcuaIngestStats, 'queued'> = {
    readings: 0,
    backfilled: 0,
    gaps: 0,
    reconnects: 0,
    duplicates: 0,
    deadLetters: 0,
    pauses: 0,
  };
  /** Newest delivered source time per tag, in ms: the start of any gap. */
  const lastTime = new Map<string, number>();
  let queue: Reading[] = [];
  let pending: Reading[] | undefined; // while backfilling, live values wait here
  let flushing: Promise<void> | undefined;
  let flushScheduled = false;
  let closing = false;
  let isConnected = false;
  let paused = false;
  let client: OPCUAClient | undefined;
  let session: ClientSession | undefined;
  let subscription: ClientSubscription | undefined;
  let reconnecting: Promise<void> | undefined;

  const health = (event: Omit<OpcuaHealthEvent, 'source' | 'at'> & { at?: string }) => {
    try {
      options.onHealth?.({ source: 'opcua', at: new Date().toISOString(), ...event });
    } catch (error) {
      log(`[opcua] onHealth failed: ${describe(error)}`);
    }
  };
  const deadLetter = async (nodeId: string, excerpt: string, reason: string) => {
    stats.deadLetters++;
    try {
      const result = options.onDeadLetter?.({
        source: 'opcua',
        topic: nodeId,
        payloadExcerpt: excerpt.slice(0, 240),
        reason,
        receivedAt: new Date().toISOString(),
      });
      if (isPromise(result)) await result;
    } catch (error) {
      log(`[opcua] onDeadLetter failed: ${describe(error)}`);
    }
  };

  const toReading = (tag: OpcuaTag, dataValue: DataValue): Reading | undefined => {
    const value = numeric(dataValue.value?.value);
    const quality = qualityFromStatusCode(dataValue.statusCode.value);
    if (value === undefined) {
      // A bad status often carries no value at all: that is a quality event, not a malformed payload.
      if (quality !== 'good') return undefined;
      void deadLetter(
        tag.nodeId,
        String(dataValue.value?.value).slice(0, 200),
        `OPC UA value of ${tag.nodeId} (tag ${tag.tag}) is not a finite number (${dataValue.value?.dataType === undefined ? 'no value' : `data type ${dataValue.value.dataType}`}); moved to the dead-letter table`,
      );
      return undefined;
    }
    const source = dataValue.sourceTimestamp ?? dataValue.serverTimestamp ?? new Date();
    const reading: Reading = { tag: tag.tag, value, sourceTime: source.toISOString(), quality };
    if (dataValue.serverTimestamp) reading.serverTime = dataValue.serverTimestamp.toISOString();
    if (tag.unit !== undefined) reading.unit = tag.unit;
    return reading;
  };

  /** Keeps each tag in time order: anything not newer than what was delivered is a duplicate. */
  const admit = (reading: Reading): boolean => {
    const time = Date.parse(reading.sourceTime);
    const last = lastTime.get(reading.tag);
    if (last !== undefined && time <= last) {
      stats.duplicates++;
      return false;
    }
    lastTime.set(reading.tag, time);
    return true;
  };

  const flush = async () => {
    flushScheduled = false;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const result = options.onReadings(batch);
        if (isPromise(result)) await result;
        stats.readings += batch.length;
      } catch (error) {
        await deadLetter(
          '(delivery)',
          JSON.stringify(batch.slice(0, 3)),
          `onReadings failed (${describe(error)}) for ${batch.length} OPC UA readings; moved to the dead-letter table`,
        );
      }
    }
    if (paused && !closing) {
      paused = false;
      await subscription?.setPublishingMode(true).catch(() => undefined);
      if (session !== undefined) await backfill(session, 'publishing was paused while andon caught up');
    }
  };
  const scheduleFlush = () => {
    if (flushScheduled || flushing !== undefined) return;
    flushScheduled = true;
    setImmediate(() => {
      flushing = flush().finally(() => {
        flushing = undefined;
        if (queue.length > 0) scheduleFlush();
      });
    });
  };
  const enqueue = (reading: Reading) => {
    if (!admit(reading)) return;
    queue.push(reading);
    if (queue.length >= maxQueued && !paused && subscription !== undefined) {
      // Bounded: stop the server publishing instead of buffering; what it drops is backfilled on resume.
      paused = true;
      stats.pauses++;
      void subscription.setPublishingMode(false).catch(() => undefined);
    }
    scheduleFlush();
  };

  const backfill = async (activeSession: ClientSession, why: string) => {
    const now = Date.now();
    for (const tag of tags) {
      const last = lastTime.get(tag.tag);
      if (last === undefined) continue;
      const from = new Date(Math.max(last + 1, now - maxBackfillMs));
      const to = new Date(now);
      if (!backfillEnabled) {
        stats.gaps++;
        health({
          scope: tag.tag,
          kind: 'data-gap',
          from: from.toISOString(),
          to: to.toISOString(),
          detail: `No samples of ${tag.tag} between ${from.toISOString()} and ${to.toISOString()} (${why}); backfill is off`,
        });
        continue;
      }
      try {
        const result = await activeSession.readHistoryValue({ nodeId: tag.nodeId }, from, to);
        if (!result.statusCode.isGood()) throw new Error(result.statusCode.name);
        const values = (result.historyData as { dataValues?: DataValue[] } | null)?.dataValues ?? [];
        let recovered = 0;
        for (const dataValue of values) {
          const reading = toReading(tag, dataValue);
          if (reading === undefined || !admit(reading)) continue;
          queue.push(reading);
          recovered++;
        }
        stats.backfilled += recovered;
        if (recovered > 0) {
          health({
            scope: tag.tag,
            kind: 'backfilled',
            from: from.toISOString(),
            to: to.toISOString(),
            detail: `Backfilled ${recovered} sample(s) of ${tag.tag} from the server history after ${why}`,
          });
        }
      } catch (error) {
        stats.gaps++;
        health({
          scope: tag.tag,
          kind: 'data-gap',
          from: from.toISOString(),
          to: to.toISOString(),
          detail: `No samples of ${tag.tag} between ${from.toISOString()} and ${to.toISOString()} (${why}), and the server could not backfill them (${describe(error)})`,
        });
      }
    }
    scheduleFlush();
  };

  const teardown = async () => {
    const [oldClient, oldSession, oldSubscription] = [client, session, subscription];
    client = undefined;
    session = undefined;
    subscription = undefined;
    await oldSubscription?.terminate().catch(() => undefined);
    await oldSession?.close().catch(() => undefined);
    await oldClient?.disconnect().catch(() => undefined);
  };

  const connectOnce = async (): Promise<void> => {
    const next = OPCUAClient.create({
      applicationName: options.applicationName ?? 'andon',
      endpointMustExist: false,
      securityMode: MessageSecurityMode[security.mode],
      securityPolicy: SecurityPolicy[security.policy],
      clientCertificateManager: certificateManager,
      certificateFile: join(options.pkiFolder, 'own', 'certs', 'client_certificate.pem'),
      privateKeyFile: join(options.pkiFolder, 'own', 'private', 'private_key.pem'),
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 500 },
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
    });
    client = next;
    await next.connect(options.endpoint);
    const nextSession = await next.createSession(await userIdentity(auth));
    session = nextSession;
    const nextSubscription = await nextSession.createSubscription2({
      requestedPublishingInterval: options.publishingIntervalMs ?? 1000,
      requestedLifetimeCount: 60,
      requestedMaxKeepAliveCount: 10,
      maxNotificationsPerPublish: 10_000,
      publishingEnabled: true,
      priority: 10,
    });
    subscription = nextSubscription;
    const resuming = lastTime.size > 0;
    pending = resuming ? [] : undefined;
    for (const tag of tags) {
      const filter =
        tag.deadband === undefined
          ? null
          : new DataChangeFilter({
              trigger: DataChangeTrigger.StatusValue,
              deadbandType: tag.deadband.type === 'absolute' ? DeadbandType.Absolute : DeadbandType.Percent,
              deadbandValue: tag.deadband.value,
            });
      const item = await nextSubscription.monitor(
        { nodeId: tag.nodeId, attributeId: AttributeIds.Value },
        { samplingInterval: tag.samplingIntervalMs, queueSize: tag.queueSize, discardOldest: true, filter },
        TimestampsToReturn.Both,
      );
      item.on('changed', (dataValue: DataValue) => {
        const reading = toReading(tag, dataValue);
        if (reading === undefined) return;
        if (pending !== undefined) pending.push(reading);
        else enqueue(reading);
      });
      item.on('err', (message: string) => {
        health({
          scope: tag.tag,
          kind: 'subscription-error',
          detail: `OPC UA cannot monitor ${tag.nodeId} for tag ${tag.tag}: ${message}`,
        });
      });
    }
    const lost = (why: string) => {
      if (closing || client !== next) return;
      void reconnect(why);
    };
    next.on('connection_lost', () => lost('the connection was lost'));
    next.on('close', () => lost('the connection closed'));
    nextSession.on('session_closed', () => lost('the session closed'));
    nextSubscription.on('terminated', () => lost('the subscription ended'));
    isConnected = true;
    health({
      scope: options.endpoint,
      kind: 'online',
      detail: `Connected to ${options.endpoint} and subscribed to ${tags.length} tag(s)`,
    });
    if (resuming) {
      await backfill(nextSession, 'a lost connection');
      const live = pending ?? [];
      pending = undefined;
      for (const reading of live) enqueue(reading);
    }
  };

  const reconnect = (why: string): Promise<void> => {
    reconnecting ??= (async () => {
      isConnected = false;
      health({ scope: options.endpoint, kind: 'offline', detail: `OPC UA ${options.endpoint}: ${why}; reconnecting` });
      log(`[opcua] ${options.endpoint}: ${why}; reconnecting with backoff`);
      let delay = reconnectInitial;
      while (!closing) {
        await teardown();
        await sleep(delay);
        if (closing) break;
        stats.reconnects++;
        try {
          await connectOnce();
          log(`[opcua] ${options.endpoint}: reconnected and re-subscribed`);
          break;
        } catch (error) {
          log(
            `[opcua] ${options.endpoint}: reconnect failed (${describe(error)}); next try in ${Math.min(delay * 2, reconnectMax)} ms`,
          );
          delay = Math.min(delay * 2, reconnectMax);
        }
      }
    })().finally(() => {
      reconnecting = undefined;
    });
    return reconnecting;
  };

  try {
    await connectOnce();
  } catch (error) {
    closing = true;
    await teardown();
    throw new AndonError(
      'unavailable',
      `OPC UA ingest cannot start against ${options.endpoint} (${describe(error)}). Check the endpoint URL, the security mode and policy, the credentials, and that the server trusts andon's certificate (${join(options.pkiFolder, 'own', 'certs', 'client_certificate.pem')}).${security.mode === 'None' ? '' : ` With ${security.mode}, andon trusts only server certificates in ${join(options.pkiFolder, 'trusted', 'certs')}: a refused one is in ${join(options.pkiFolder, 'rejected')}; check its thumbprint and move it there.`}`,
      { retryable: true, cause: error },
    );
  }
  log(
    `[opcua] subscribed to ${tags.length} tag(s) at ${options.endpoint} (security ${security.mode}/${security.policy})`,
  );

  let closed: Promise<void> | undefined;
  return {
    stats: () => ({ ...stats, queued: queue.length }),
    connected: () => isConnected,
    close() {
      closed ??= (async () => {
        closing = true;
        await reconnecting;
        while (flushing !== undefined || flushScheduled) {
          if (flushing !== undefined) await flushing;
          else await new Promise<void>((resolve) => setImmediate(resolve));
        }
        isConnected = false;
        await teardown();
      })();
      return closed;
    },
  };
}
