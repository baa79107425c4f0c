import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlarmActivation, alarmKpis } from '../../detection/index.ts';
import { createUserStore, type Database, openDatabase } from '../../store/index.ts';
import { createRoleUsers, mountForTest } from '../__fixtures__/ui-users.ts';
import { createAlarmsPage, tenMinuteSeries } from './alarms.tsx';

const T0 = Date.UTC(2026, 10, 25, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A quiet day in two areas, and a flood of 14 alarms in packaging between 02:00 and 02:10. */
const activations: AlarmActivation[] = [
  ...Array.from({ length: 14 }, (_, index) => ({
    key: `packaging.line1.tag${index % 3}:ewma:limit`,
    tag: `packaging.line1.tag${index % 3}`,
    detector: 'ewma',
    rule: 'limit',
    area: 'packaging',
    priority: index === 0 ? ('high' as const) : ('low' as const),
    raisedAt: at(120 + index / 2),
    clearedAt: at(125 + index / 2),
  })),
  {
    key: 'mixing.tank2.level:cusum:upper',
    tag: 'mixing.tank2.level',
    detector: 'cusum',
    rule: 'upper',
    area: 'mixing',
    priority: 'medium',
    raisedAt: at(600),
    clearedAt: null,
  },
  {
    key: '<script>alert(1)</script>:ewma:limit',
    tag: '<script>alert(1)</script>',
    detector: 'ewma',
    rule: 'limit',
    area: 'mixing',
    priority: 'low',
    raisedAt: at(700),
    clearedAt: at(701),
  },
];

describe('the Alarms page', () => {
  let database: Database;
  let app: Hono;
  let users: Awaited<ReturnType<typeof createRoleUsers>>;
  const page = (query: string, role: keyof typeof users | null = 'operator') =>
    app.request(`/alarms${query}`, { headers: role ? { authorization: `Bearer ${users[role].token}` } : {} });

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://alarms-page-test', poolSize: 2 });
    const userStore = createUserStore(database);
    users = await createRoleUsers(userStore, ['operator']);
    const select = (from: string, to: string, area?: string) =>
      activations.filter(
        (activation) =>
          activation.raisedAt >= from && activation.raisedAt < to && (area === undefined || activation.area === area),
      );
    const alarms = {
      list: async () => [],
      activations: async (from: string, to: string, area?: string) => select(from, to, area),
      report: async (options: { from?: string; to?: string; area?: string } = {}) =>
        alarmKpis(select(options.from!, options.to!, options.area), {
          from: options.from!,
          to: options.to!,
          ...(options.area ? { area: options.area } : {}),
        }),
    };
    app = mountForTest(
      createAlarmsPage({
        alarms,
        readings: { window: async () => [] },
        users: userStore,
        now: () => new Date(T0 + 86_400_000),
      }),
    );
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('shows each KPI beside its ISA-18.2 target, with the flood, the rate chart and escaped alarm names', async () => {
    const response = await page('');
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('16 alarm(s) from 2026-11-25 00:00 to 2026-11-26 00:00 UTC, all areas');
    expect(html).toMatch(/10-min periods in flood<\/th><td>0.7 % \(1 of 144\)<\/td><td>&lt; 1 %<\/td>/);
    expect(html).toContain('about 80 / 15 / 5 %');
    expect(html).toContain('class="chart rate-chart"');
    expect(html).toContain('1 period(s) above the flood threshold of 10');
    expect(html).toContain('<label for="alarms-area">Area</label>');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('filters by area and period, taking datetime-local values as UTC', async () => {
    const html = await (await page('?from=2026-11-25T09:00&to=2026-11-25T12:00&area=mixing')).text();
    expect(html).toContain('2 alarm(s) from 2026-11-25 09:00 to 2026-11-25 12:00 UTC in mixing');
    expect(html).not.toContain('packaging.line1');
    expect(html).toContain('value="2026-11-25T09:00"');
  });

  it('explains a bad filter in plain words and refuses anonymous visitors', async () => {
    const backwards = await page('?from=2026-11-25T12:00&to=2026-11-25T09:00');
    expect(backwards.status).toBe(400);
    expect(((await backwards.json()) as { error: { message: string } }).error.message).toMatch(
      /choose a "to" after "from"/,
    );
    const garbage = await page('?from=yesterday');
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { message: string } }).error.message).toMatch(/2026-11-25T08:00/);
    expect((await page('?from=2026-01-01T00:00&to=2026-11-25T00:00')).status).toBe(400);
    expect((await page('', null)).status).toBe(401);
  });

  it('bins alarms into 10-minute periods, busiest area per period', () => {
    const series = tenMinuteSeries(activations, new Date(T0), new Date(T0 + 86_400_000));
    expect(series).toHaveLength(144);
    expect(series[12]).toBe(14);
    expect(series[60]).toBe(1);
    expect(series.reduce((sum, count) => sum + count, 0)).toBe(16);
  });
});
