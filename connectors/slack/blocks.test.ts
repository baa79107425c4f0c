import { readFile, writeFile } from 'node:fs/promises';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { sampleApproval, sampleCase, sampleDraft, sampleHash, sampleSnapshot } from './__fixtures__/sample.ts';
import {
  caseMessage,
  chatMessage,
  crc32,
  digestMessage,
  encodePng,
  loadSlackRouting,
  renderControlChart,
  routeCase,
  SlackRouting,
  signingLinkModal,
  signingModal,
  threadMessage,
} from './index.ts';

/** The Block Kit JSON shown in docs/slack.md, built by the same code that posts it. */
const examples = (): Record<string, unknown> => ({
  'case-awaiting-approval': caseMessage(sampleSnapshot),
  'case-approved': caseMessage({
    ...sampleSnapshot,
    case: { ...sampleCase, status: 'closed' },
    approvals: [sampleApproval],
    executions: [
      {
        id: 'ACT-1',
        caseId: sampleCase.id,
        proposalId: 'act-1',
        type: 'lot_hold',
        params: {},
        idempotencyKey: 'lot_hold:CASE-20261125-7f3a9c:5d41402a',
        status: 'succeeded',
        attempts: 1,
        externalId: 'HOLD-5521',
        lastError: null,
        createdAt: '2026-11-25T09:21:41.000Z',
        updatedAt: '2026-11-25T09:21:43.000Z',
      },
    ],
  }),
  'signing-modal': signingModal({
    case: sampleCase,
    draft: sampleDraft,
    recordHash: sampleHash,
    decision: 'approve',
    signer: { displayName: 'Quinn Quality', username: 'quality' },
    message: null,
  }),
  'signing-link-modal': signingLinkModal({
    caseId: sampleCase.id,
    version: 1,
    recordHash: sampleHash,
    decision: 'approve',
    url: 'https://andon.example.com/slack/sign/2mZ…',
    expiresAt: new Date('2026-11-25T09:31:02.000Z'),
    ttlMinutes: 10,
  }),
  'thread-approved': threadMessage(
    ':white_check_mark: *Approved* by *Quinn Quality* at 2026-11-25T09:21:40.000Z: “Hold the lot.”',
    'Electronic signature, meaning “approved”, over record `3f2a9c1be0d4` (re-authenticated with password)',
  ),
  digest: digestMessage({
    title: 'Many new cases',
    since: '2026-11-25T09:30:00.000Z',
    lines: [
      {
        id: 'CASE-20261125-a1',
        title: 'utilities.boiler.pressure: CUSUM shift',
        severity: 'high',
        status: 'awaiting_approval',
        url: 'https://andon.example.com/cases/CASE-20261125-a1',
      },
      {
        id: 'CASE-20261125-a2',
        title: 'utilities.boiler.feedwater_flow: EWMA below limit',
        severity: 'medium',
        status: 'triaging',
        url: 'https://andon.example.com/cases/CASE-20261125-a2',
      },
    ],
  }),
  'chat-answer': chatMessage({
    text: '*CASE-20261125-7f3a9c* is *awaiting approval* (high): Seal temperature on packaging line 1 drifts upward.\n\n*Hypotheses in the current draft*\n1. The heat sealer thermocouple is drifting, so the controller overheats the jaws. (62%) [1]',
    citations: [sampleDraft.hypotheses[0]!.citations[0]!],
    label: 'Offline answer (no language model configured): quoted from the draft and the knowledge base',
    done: true,
  }),
});

const docsUrl = new URL('../../docs/slack.md', import.meta.url);

describe('Block Kit messages', () => {
  it('docs/slack.md shows exactly the JSON the builders produce (UPDATE_DOCS=1 rewrites it)', async () => {
    let docs = await readFile(docsUrl, 'utf8');
    for (const [name, value] of Object.entries(examples())) {
      const pattern = new RegExp(
        `<!-- blocks:${name} -->\\n(\`{3,4})json\\n([\\s\\S]*?)\\n\\1\\n<!-- /blocks:${name} -->`,
      );
      expect(docs, `docs/slack.md has a blocks:${name} section`).toMatch(pattern);
      const json = JSON.stringify(value, null, 2);
      const fence = json.includes('```') ? '````' : '```';
      const section = `<!-- blocks:${name} -->\n${fence}json\n${json}\n${fence}\n<!-- /blocks:${name} -->`;
      if (process.env.UPDATE_DOCS) docs = docs.replace(pattern, () => section);
      else expect(docs.match(pattern)?.[2], name).toBe(json);
    }
    if (process.env.UPDATE_DOCS) await writeFile(docsUrl, docs);
  });

  it('a case message stays inside Slack’s limits', () => {
    const { blocks } = caseMessage(sampleSnapshot);
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const block of blocks) expect(JSON.stringify(block).length).toBeLessThan(3500);
    const header = blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    const modal = signingModal({
      case: sampleCase,
      draft: sampleDraft,
      recordHash: sampleHash,
      decision: 'reject',
      signer: { displayName: 'Q', username: 'q' },
      message: null,
    }) as { title: { text: string }; blocks: unknown[] };
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(modal.blocks.length).toBeLessThanOrEqual(100);
  });
});

describe('control chart PNG', () => {
  it('is a valid PNG: signature, IHDR, chunk CRCs and a deflated image of the right size', () => {
    const png = renderControlChart({
      readings: Array.from({ length: 120 }, (_, index) => ({
        sourceTime: new Date(Date.UTC(2026, 10, 25, 9, 0, index * 5)).toISOString(),
        value: 180 + Math.sin(index / 4) + (index > 90 ? (index - 90) * 0.2 : 0),
      })),
      limits: { lower: 178, center: 180, upper: 182 },
      flagged: [{ t: new Date(Date.UTC(2026, 10, 25, 9, 9, 55)).toISOString(), value: 185.8 }],
      width: 200,
      height: 80,
    });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const chunks: Array<{ type: string; data: Buffer }> = [];
    for (let offset = 8; offset < png.length; ) {
      const length = png.readUInt32BE(offset);
      const type = png.toString('ascii', offset + 4, offset + 8);
      const data = png.subarray(offset + 8, offset + 8 + length);
      expect(png.readUInt32BE(offset + 8 + length), `CRC of ${type}`).toBe(
        crc32(png.subarray(offset + 4, offset + 8 + length)),
      );
      chunks.push({ type, data });
      offset += 12 + length;
    }
    expect(chunks.map((chunk) => chunk.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks[0]!.data.readUInt32BE(0)).toBe(200);
    expect(chunks[0]!.data.readUInt32BE(4)).toBe(80);
    const raw = inflateSync(chunks[1]!.data);
    expect(raw.length).toBe((200 * 3 + 1) * 80);
    expect(raw.includes(Buffer.from([207, 34, 46]))).toBe(true); // the limits and the flagged point are red
  });

  it('CRC-32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(/expected 12 bytes/);
  });
});

describe('routing', () => {
  const routing = SlackRouting.parse({
    default: { channel: 'C0QUALITY', minSeverity: 'high' },
    routes: [
      { line: 'packaging.line1', channel: 'C0LINE1', minSeverity: 'medium' },
      { area: 'packaging', channel: 'C0PACKAGING' },
    ],
  });
  const item = (over: Partial<typeof sampleCase>) => ({ ...sampleCase, ...over });

  it('a line route wins over an area route, and an area route over the default', () => {
    expect(routeCase(routing, item({}))?.channel).toBe('C0LINE1');
    expect(
      routeCase(routing, item({ context: { line: 'packaging.line2' }, tags: ['packaging.line2.seal_temperature'] }))
        ?.channel,
    ).toBe('C0PACKAGING');
    expect(routeCase(routing, item({ area: 'utilities', context: {}, tags: ['utilities.boiler'] }))?.channel).toBe(
      'C0QUALITY',
    );
  });

  it('drops cases below the threshold of the route they match', () => {
    expect(routeCase(routing, item({ severity: 'low' }))).toBeNull();
    expect(routeCase(routing, item({ area: 'utilities', context: {}, tags: [], severity: 'medium' }))).toBeNull();
    expect(routeCase(SlackRouting.parse({}), item({}))).toBeNull();
  });

  it('names the bad setting when the routing file is wrong, and takes SLACK_CHANNEL as the default', async () => {
    await expect(loadSlackRouting({ file: '/nonexistent/routing.yaml' })).rejects.toThrow(/Cannot read SLACK_ROUTING/);
    const file = new URL('./__fixtures__/bad-routing.yaml', import.meta.url).pathname;
    await expect(loadSlackRouting({ file })).rejects.toThrow(/routes\.0\.channel: a Slack channel id/);
    expect((await loadSlackRouting({ defaultChannel: 'C0DEFAULT' })).default).toEqual({
      channel: 'C0DEFAULT',
      minSeverity: 'low',
    });
  });
});

describe('manifest.yaml', () => {
  it('subscribes to the events and interactivity andon handles, at /slack/events', async () => {
    const manifest = parseYaml(await readFile(new URL('../../manifest.yaml', import.meta.url), 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
      settings: {
        event_subscriptions: { request_url: string; bot_events: string[] };
        interactivity: { is_enabled: boolean; request_url: string };
      };
    };
    expect(manifest.settings.event_subscriptions.request_url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.interactivity).toMatchObject({
      is_enabled: true,
      request_url: expect.stringMatching(/\/slack\/events$/),
    });
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining(['app_mention', 'message.im', 'message.channels', 'assistant_thread_started']),
    );
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['chat:write', 'files:write', 'app_mentions:read', 'im:history', 'assistant:write']),
    );
  });
});
