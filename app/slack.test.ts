import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaseChat } from '../agent/index.ts';
import { KPI_REPLAY_ALARM_CONFIG, KPI_REPLAY_BANK_OPTIONS, replayAlarmDay } from '../bench/alarm-kpi-replay.ts';
import { fakeSlackApi, textOf } from '../connectors/slack/__fixtures__/slack-api.ts';
import { createSlackApp, SlackRouting } from '../connectors/slack/index.ts';
import { createPlant } from '../simulator/plant.ts';
import { parseScenario } from '../simulator/scenario.ts';
import {
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createReadingStore,
  createSlackStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { driftThenUpset } from './__fixtures__/drift-then-upset.ts';
import { slackAlarmNotices } from './slack.ts';

const slackApi = fakeSlackApi();
const clock = { now: () => new Date() };
let database: Database;

beforeAll(async () => {
  slackApi.server.listen({ onUnhandledRequest: 'bypass' });
  database = await openDatabase({ dataDir: 'memory://slack-flood-digest' });
});

afterAll(async () => {
  slackApi.server.close();
  await database?.close();
});

describe('alarm floods in Slack', () => {
  it('a flood of a dozen alarms is one digest message, with the flood digest in its thread, not a message per alarm', async () => {
    const audit = createAuditLog(database, clock);
    const cases = createCaseStore(database, clock);
    const drafts = createDraftStore(database, clock);
    const approvals = createApprovalStore(database, clock);
    const outbox = createOutbox(database, clock);
    const readings = createReadingStore(database);
    const reader = {
      get: (id: string) => cases.get(id),
      deviations: (id: string) => cases.deviations(id),
      latestDraft: (id: string) => drafts.latestStored(id),
      approvals: (id: string) => approvals.forCase(id),
      executions: (id: string) => outbox.forCase(id),
      signal: (tag: string, from: Date, to: Date, limit: number) => readings.window(tag, from, to, limit),
    };
    const slackStore = createSlackStore(database);
    const slack = createSlackApp({
      botToken: 'xoxb-test',
      signingSecret: 'test-signing-secret',
      publicUrl: 'http://andon.test',
      store: slackStore,
      cases: reader,
      audit,
      chat: createCaseChat({ knowledge: { search: async () => [] }, cases: reader, signals: readings }),
      routing: SlackRouting.parse({ routes: [{ area: 'packaging', channel: 'C0PACK' }] }),
      approverRoles: () => ['quality_lead'],
      signingRefusal: async () => null,
      chatUpdateMs: 0,
      log: () => {},
    });
    await slack.ready();
    await slack.notifier.tick(); // the notifier starts from the end of the audit log
    slackApi.reset();

    const wakes: number[] = [];
    // a seal temperature drift, then a line upset on four signals that floods the packaging area
    const result = await replayAlarmDay({
      createPlant,
      parseScenario: (input) => parseScenario(input),
      database,
      intervalMs: 30_000,
      samples: 300,
      batchSamples: 30,
      bankOptions: KPI_REPLAY_BANK_OPTIONS,
      alarmConfig: KPI_REPLAY_ALARM_CONFIG,
      // Slack catches up once the replay is done (as after a rate limit or an outage): what it posts does not depend on
      // how fast it keeps up, and the wiring must have asked it to catch up
      notify: slackAlarmNotices({ audit, notifier: { wake: () => wakes.push(Date.now()) }, log: () => {} }),
      scenario: driftThenUpset('drift-then-upset'),
    });
    const floodAlarms = result.notices.find((notice) => notice.type === 'flood.digest')!;
    expect(floodAlarms.type === 'flood.digest' && floodAlarms.alarms).toBeGreaterThan(10);
    const floodCase = result.cases.find((item) => item.flood)!;
    expect(result.cases).toHaveLength(2);
    const driftCase = result.cases.find((item) => !item.flood)!;

    // the digest notes are written to the audit log behind the pipeline; each write wakes the notifier
    await expect.poll(() => wakes.length, { timeout: 60_000 }).toBe(4); // two cases opened, the flood began and ended
    const posts = () => slackApi.of('chat.postMessage').filter((call) => call.args.channel === 'C0PACK');
    const threadNotes = () => posts().filter((call) => call.args.thread_ts !== undefined);
    await expect
      .poll(
        async () => {
          await slack.notifier.tick();
          return threadNotes().length;
        },
        { timeout: 120_000, interval: 200 },
      )
      .toBe(2);

    const topLevel = posts().filter((call) => call.args.thread_ts === undefined);
    expect(topLevel).toHaveLength(2); // the drift's case message and the flood's digest: not one per alarm
    const [caseMessage, digest] = [
      topLevel.find((call) => textOf(call.args.blocks).includes(driftCase.id))!,
      topLevel.find((call) => textOf(call.args.blocks).includes('Alarm flood'))!,
    ];
    expect(caseMessage).toBeDefined();
    expect(textOf(digest.args.blocks)).toContain(floodCase.id);
    expect(textOf(digest.args.blocks)).not.toContain(driftCase.id);
    const digestMessage = await slackStore.caseMessage(floodCase.id);
    expect(digestMessage).toMatchObject({ channel: 'C0PACK', kind: 'digest' });
    const notes = threadNotes().map((call) => textOf(call.args.blocks));
    expect(threadNotes().every((call) => call.args.thread_ts === digestMessage!.ts)).toBe(true);
    expect(notes[0]).toMatch(/Alarm flood in packaging: \d+ alarms within 10 minutes on 4 tags.*grouped into case/);
    expect(notes[1]).toContain('Alarm flood in packaging is over');
    for (const note of notes) expect(note).toContain(floodCase.id);
    await slack.stop();
  }, 600_000);
});
