import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { inSpan, startTracing } from './tracing.ts';

const capture = () => {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination };
};

describe('the pino logger behind log(line)', () => {
  it('writes JSON lines with the case id and graph thread id the line names', () => {
    const { lines, destination } = capture();
    const log = createLogger({ destination });
    log('case CASE-20261125-7f3a9c: triage waits for a signed decision');
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'andon',
      caseId: 'CASE-20261125-7f3a9c',
      threadId: 'case:CASE-20261125-7f3a9c',
      msg: 'case CASE-20261125-7f3a9c: triage waits for a signed decision',
    });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('adds the active trace id, and logs failures as warnings that LOG_LEVEL=warn still shows', async () => {
    const tracing = startTracing();
    const { lines, destination } = capture();
    const log = createLogger({ level: 'warn', destination });
    let traceId = '';
    await inSpan('test', {}, async (span) => {
      traceId = span.spanContext().traceId;
      log('mqtt: connected'); // info: below warn
      log('case CASE-1: triage failed: boom');
    });
    await tracing.stop();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', caseId: 'CASE-1', traceId });
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('is silent at LOG_LEVEL=silent and carries child bindings', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'silent', destination })('anything failed');
    expect(lines).toHaveLength(0);
    createLogger({ destination }).child({ worker: 'w1' })('started');
    expect(lines[0]).toMatchObject({ worker: 'w1', msg: 'started' });
  });
});
