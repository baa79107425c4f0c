import type { AlarmStore, ReadingStore } from '../../store/index.ts';

const MINUTE = 60_000;
const TEN_MINUTES = 600_000;
const DAY = 86_400_000;
/** How many of the most recently alarmed tags are probed for the span of stored readings. */
const PROBED_TAGS = 3;

/** The period the alarm KPIs cover, in plant time (the readings' source time), and why. */
export interface KpiWindow {
  from: Date;
  to: Date;
  /** The plant clock runs ahead of this server's (an accelerated simulator or a replay): the period follows it. */
  plantAhead: boolean;
  /** The readings start inside the last 24 hours, so the period starts with them instead of averaging empty time. */
  clipped: boolean;
  /** Readings of the alarmed tags were found in the period: a count of zero alarms there is a measurement. */
  observed: boolean;
}

export interface KpiWindowSources {
  alarms: Pick<AlarmStore, 'list'>;
  readings: Pick<ReadingStore, 'window'>;
}

/** Readings stamped further ahead than this are a wrong sensor clock, not an accelerated plant. */
const MAX_AHEAD = 366 * DAY;
const hasReadings = async (readings: KpiWindowSources['readings'], tag: string, from: Date, to: Date) =>
  (await readings.window(tag, from, to, 1)).length > 0;

/** The time of a tag's latest stored reading, or null. */
async function latestReading(readings: KpiWindowSources['readings'], tag: string, now: Date): Promise<number | null> {
  const [latest] = await readings.window(
    tag,
    new Date(now.getTime() - MAX_AHEAD),
    new Date(now.getTime() + MAX_AHEAD),
    1,
  );
  return latest ? Date.parse(latest.sourceTime) : null;
}

/** Within a minute after the first reading of the tag in [from, to] (about a dozen index probes), or null. */
async function firstReading(
  readings: KpiWindowSources['readings'],
  tag: string,
  from: Date,
  to: Date,
): Promise<number | null> {
  if (!(await hasReadings(readings, tag, from, to))) return null;
  let before = from.getTime();
  let after = to.getTime(); // a reading lies in [from, after]
  while (after - before > MINUTE) {
    const middle = Math.floor((before + after) / 2);
    if (await hasReadings(readings, tag, from, new Date(middle))) after = middle;
    else before = middle;
  }
  return after;
}

/**
 * The period for the ISA-18.2 KPI tiles: the 24 hours up to now, measured on the plant's clock. Alarms carry the
 * readings' source time, so when the plant clock runs ahead of this server's (the simulator at SIMULATOR_SPEED > 1,
 * a replay) the period ends at the latest reading instead of at wall-clock now, which would leave every alarm out.
 * When the stored readings begin inside those 24 hours (a fresh install, a demo), the period begins with them, so
 * rates are averaged over time the plant was actually observed, not over empty hours.
 */
export async function kpiWindow(sources: KpiWindowSources, now: Date): Promise<KpiWindow> {
  const alarms = await sources.alarms.list({ limit: 50 });
  const tags = [...new Set(alarms.map((alarm) => alarm.tag))].slice(0, PROBED_TAGS);
  const latest = Math.max(
    now.getTime(),
    ...alarms
      .map((alarm) => Date.parse(alarm.lastSeen))
      .filter((time) => Number.isFinite(time) && time < now.getTime() + MAX_AHEAD),
    ...(await Promise.all(tags.map((tag) => latestReading(sources.readings, tag, now)))).filter(
      (time): time is number => time !== null,
    ),
  );
  const plantAhead = latest > now.getTime() + MINUTE;
  const to = new Date(plantAhead ? Math.ceil((latest + 1) / MINUTE) * MINUTE : now.getTime());
  const dayBefore = new Date(to.getTime() - DAY);
  const starts = (await Promise.all(tags.map((tag) => firstReading(sources.readings, tag, dayBefore, to)))).filter(
    (time): time is number => time !== null,
  );
  if (starts.length === 0) return { from: dayBefore, to, plantAhead, clipped: false, observed: false };
  // whole ten-minute periods, at least one
  const start = Math.floor(Math.min(...starts) / TEN_MINUTES) * TEN_MINUTES;
  const from = new Date(Math.min(to.getTime() - TEN_MINUTES, Math.max(dayBefore.getTime(), start)));
  return { from, to, plantAhead, clipped: from > dayBefore, observed: true };
}
