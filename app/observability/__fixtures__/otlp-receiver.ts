import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One span as an OTLP/HTTP JSON export carries it, with ids as hex. */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  kind: number;
  attributes: Record<string, unknown>;
  service: string;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

// The JSON encoding of OTLP carries ids as hex; some exporters send base64. Normalise to hex.
const hexId = (id: string | undefined): string => {
  if (!id) return '';
  if (/^[0-9a-f]+$/i.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
};

const attributeValue = (value: AnyValue | undefined): unknown =>
  value?.stringValue ??
  (value?.intValue === undefined ? undefined : Number(value.intValue)) ??
  value?.doubleValue ??
  value?.boolValue;

/**
 * A tiny OpenTelemetry collector for tests: accepts OTLP/HTTP JSON on POST /v1/traces and keeps the spans.
 */
export async function startOtlpReceiver(): Promise<{ url: string; spans: ReceivedSpan[]; close(): Promise<void> }> {
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      if (!(request.headers['content-type'] ?? '').includes('json')) {
        response.writeHead(415).end('only OTLP/HTTP JSON');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: Array<{
          resource?: { attributes?: Array<{ key: string; value: AnyValue }> };
          scopeSpans?: Array<{
            spans?: Array<{
              name: string;
              traceId: string;
              spanId: string;
              parentSpanId?: string;
              kind: number;
              attributes?: Array<{ key: string; value: AnyValue }>;
            }>;
          }>;
        }>;
      };
      for (const resource of body.resourceSpans ?? []) {
        const service = String(
          attributeValue(resource.resource?.attributes?.find((attribute) => attribute.key === 'service.name')?.value) ??
            '',
        );
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              name: span.name,
              traceId: hexId(span.traceId),
              spanId: hexId(span.spanId),
              parentSpanId: hexId(span.parentSpanId),
              kind: span.kind,
              attributes: Object.fromEntries(
                (span.attributes ?? []).map((attribute) => [attribute.key, attributeValue(attribute.value)]),
              ),
              service,
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
