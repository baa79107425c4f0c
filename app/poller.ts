/**
 * Run `sweep` every `intervalMs` (default one minute) until stopped: one sweep at a time, the next scheduled only
 * after the previous one settles, and a failed sweep logged (with `name`) rather than ending the loop. Returns the
 * sweep itself, for tests and start-up catch-up, and `stop`.
 */
export function startPoller<T>(
  name: string,
  sweep: () => Promise<T>,
  options: { intervalMs?: number | undefined; log: (line: string) => void },
): { sweep: () => Promise<T>; stop(): void } {
  const intervalMs = options.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const loop = () => {
    if (stopped) return;
    sweep()
      .catch((error: Error) => options.log(`${name}: ${error.message}`))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  timer = setTimeout(loop, intervalMs);
  return {
    sweep,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
