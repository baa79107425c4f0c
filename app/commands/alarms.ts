import { parseArgs } from 'node:util';
import { AndonError } from '../../core/index.ts';
import { formatKpiTable } from '../../detection/index.ts';
import { createAlarmStore } from '../../store/index.ts';
import { loadConfig } from '../config.ts';
import { openStores, systemClock } from '../runtime.ts';
import type { Command } from './command.ts';

const usage = `andon alarms report [--from ISO] [--to ISO] [--area AREA] [--json]
andon alarms list [--active] [--json]
andon alarms requests [--all] [--json]
andon alarms false-alarms [--json]`;

const time = (value: string | undefined, name: string): string | undefined => {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed))
    throw new AndonError(
      'bad_request',
      `--${name} ${value} is not a date or time; use ISO 8601, e.g. 2025-03-03T00:00Z.`,
    );
  return new Date(parsed).toISOString();
};

/** `andon alarms`: the ISA-18.2 KPI report, the alarm list, pending shelve/tuning requests and false-alarm rates. */
export const command: Command = {
  name: 'alarms',
  summary: 'Alarm management: ISA-18.2 KPI report, alarm list, pending requests, false-alarm rates',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        area: { type: 'string' },
        active: { type: 'boolean' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
    const action = positionals[0];
    if (values.help || !action || !['report', 'list', 'requests', 'false-alarms'].includes(action)) {
      console.error(`usage:\n${usage}`);
      return values.help ? 0 : 2;
    }
    const stores = await openStores(loadConfig());
    try {
      const alarms = createAlarmStore(stores.database, systemClock);
      const print = (value: unknown, text: () => string) =>
        console.log(values.json ? JSON.stringify(value, null, 2) : text());
      if (action === 'report') {
        const to = time(values.to, 'to');
        const from = time(values.from, 'from');
        const report = await alarms.report({
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(values.area === undefined ? {} : { area: values.area }),
        });
        print(report, () => formatKpiTable(report));
        return 0;
      }
      if (action === 'list') {
        const rows = await alarms.list({ active: values.active ?? false });
        print(rows, () =>
          rows.length === 0
            ? 'no alarms'
            : rows
                .map(
                  (row) =>
                    `${row.lastSeen}  ${row.priority.padEnd(6)} ${row.state.padEnd(22)} ${String(row.count).padStart(4)}×  ${row.key}${row.caseId ? `  ${row.caseId}` : ''}`,
                )
                .join('\n'),
        );
        return 0;
      }
      if (action === 'requests') {
        const requests = await alarms.requests(values.all ? null : 'pending');
        print(requests, () =>
          requests.length === 0
            ? 'no pending requests'
            : requests
                .map(
                  (request) =>
                    `${request.id}  ${request.kind}  ${request.status}  ${request.alarmKey}  ${JSON.stringify(request.params)}  "${request.reason}"`,
                )
                .join('\n'),
        );
        return 0;
      }
      const rates = await alarms.falseAlarmRates();
      print(rates, () =>
        [
          'false-alarm rate per detector (dispositioned cases):',
          ...rates.byDetector.map(
            (rate) => `  ${rate.name}: ${rate.falseAlarms}/${rate.cases} (${(100 * rate.rate).toFixed(0)} %)`,
          ),
          'per tag:',
          ...rates.byTag.map(
            (rate) => `  ${rate.name}: ${rate.falseAlarms}/${rate.cases} (${(100 * rate.rate).toFixed(0)} %)`,
          ),
        ].join('\n'),
      );
      return 0;
    } finally {
      await stores.database.close();
    }
  },
};
