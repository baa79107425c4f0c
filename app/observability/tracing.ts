import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export { type Span, SpanKind };

/**
 * One tracer provider per process (OpenTelemetry's API holds one global provider), fanning spans out to whatever the
 * andon instances of this process attach: the OTLP exporter and the span-derived Prometheus metrics.
 */
class FanOut implements SpanProcessor {
  readonly listeners = new Set<SpanProcessor>();
  onStart(span: Parameters<SpanProcessor['onStart']>[0], parent: Context): void {
    for (const listener of this.listeners) listener.onStart(span, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const listener of this.listeners) listener.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.shutdown()));
  }
}

let fanOut: FanOut | null = null;

function ensureProvider(serviceName: string): FanOut {
  if (fanOut) return fanOut;
  fanOut = new FanOut();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [fanOut],
  });
  // Registers AsyncLocalStorage context propagation and the W3C traceparent propagator as well.
  provider.register();
  return fanOut;
}

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to <endpoint>/v1/traces as OTLP/HTTP JSON. */
  endpoint?: string | undefined;
  /** OTEL_SERVICE_NAME (default `andon`). */
  serviceName?: string | undefined;
  /** Extra span processors (the span-derived metrics). */
  processors?: SpanProcessor[];
}

export interface Tracing {
  tracer: Tracer;
  /** Send every finished span now (tests, shutdown). */
  flush(): Promise<void>;
  /** Detach this instance's exporter and processors. */
  stop(): Promise<void>;
}

/** The tracer andon's own code uses; spans are no-ops until {@link startTracing} ran. */
export const tracer = (): Tracer => trace.getTracer('andon');

/**
 * Start tracing for one andon instance: always in-process (graph node and detector latency metrics derive from
 * spans), and exported over OTLP/HTTP when an endpoint is configured.
 */
export function startTracing(options: TracingOptions = {}): Tracing {
  const hub = ensureProvider(options.serviceName ?? 'andon');
  const attached: SpanProcessor[] = [...(options.processors ?? [])];
  if (options.endpoint) {
    const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
    attached.push(new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 }));
  }
  for (const processor of attached) hub.listeners.add(processor);
  return {
    tracer: tracer(),
    flush: async () => {
      await Promise.all(attached.map((processor) => processor.forceFlush()));
    },
    stop: async () => {
      for (const processor of attached) hub.listeners.delete(processor);
      await Promise.all(attached.map((processor) => processor.shutdown().catch(() => {})));
    },
  };
}

/** The W3C `traceparent` of the active span, to store beside a case or an outbox row; null without a span. */
export function currentTraceparent(active: Context = context.active()): string | null {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent ?? null;
}

/** The context a stored `traceparent` stands for (a fresh root when there is none). */
export function contextFromTraceparent(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/**
 * Run `work` in a span that ends when it settles, recording a thrown error on the span.
 *
 * @example
 * await inSpan('outbox.send', { kind: SpanKind.CLIENT, attributes: { 'andon.action': id } }, () => erp.send(row));
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number | boolean>; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes ?? {} },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
