import { trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** The fields every log record may carry so that one case can be followed across logs, traces and the audit trail. */
export interface Correlation {
  caseId?: string;
  /** The LangGraph thread of the case's triage (`case:<id>`). */
  threadId?: string;
  traceId?: string;
  spanId?: string;
}

/**
 * A pino logger that keeps the `log(line)` shape the rest of andon uses: `line` is the message, and the correlation ids
 * are added as fields (the case id named in the line, its graph thread, and the active OpenTelemetry trace).
 */
export interface AndonLogger {
  (line: string): void;
  /** The same line at another level. */
  warn(line: string): void;
  error(line: string): void;
  debug(line: string): void;
  /** A logger whose records all carry these fields (e.g. `{ caseId }` or `{ worker: 'w1' }`). */
  child(bindings: Record<string, unknown>): AndonLogger;
  readonly pino: Logger;
}

const CASE_ID = /\b(CASE-[A-Za-z0-9_.:-]+?)(?=[\s:;,)]|$)/;
const LEVEL_OF_LINE = /\b(failed|failure|error|cannot|refused)\b/i;

/** The correlation ids of a log line: the case it names, that case's thread, and the active trace. */
export function correlationOf(line: string): Correlation {
  const correlation: Correlation = {};
  const caseId = CASE_ID.exec(line)?.[1];
  if (caseId) {
    correlation.caseId = caseId;
    correlation.threadId = `case:${caseId}`;
  }
  const span = trace.getActiveSpan()?.spanContext();
  if (span && span.traceId !== '00000000000000000000000000000000') {
    correlation.traceId = span.traceId;
    correlation.spanId = span.spanId;
  }
  return correlation;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go (default stdout); tests pass a stream to read them back. */
  destination?: DestinationStream;
  bindings?: Record<string, unknown>;
}

/**
 * Create the process logger: JSON lines (pino) on stdout at LOG_LEVEL, with correlation ids.
 *
 * @example
 * const log = createLogger({ level: config.LOG_LEVEL });
 * log('case CASE-20261125-7f3a9c: triage waits for a signed decision');
 * // {"level":30,"time":…,"caseId":"CASE-20261125-7f3a9c","threadId":"case:CASE-20261125-7f3a9c","msg":"case …"}
 */
export function createLogger(options: LoggerOptions = {}): AndonLogger {
  const base = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'andon', pid: process.pid, ...options.bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(base);
}

function wrap(logger: Logger): AndonLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (line: string): void => {
      if (!logger.isLevelEnabled(level)) return;
      logger[level](correlationOf(line), line);
    };
  const info = at('info');
  const log = ((line: string) => {
    // Lines of the existing log(line) callers that report a failure are warnings, so LOG_LEVEL=warn still shows them.
    if (LEVEL_OF_LINE.test(line)) at('warn')(line);
    else info(line);
  }) as AndonLogger;
  log.warn = at('warn');
  log.error = at('error');
  log.debug = at('debug');
  log.child = (bindings) => wrap(logger.child(bindings));
  Object.defineProperty(log, 'pino', { value: logger });
  return log;
}
