import type { ProgressEvent } from './run.ts';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
}

const duration = (seconds: number): string =>
  seconds >= 60
    ? `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
    : `${Math.round(seconds)}s`;

/**
 * A progress bar on stderr (stdout stays the summary table). On a terminal it redraws one line; elsewhere (CI logs) it
 * prints a line every tenth of the way.
 */
export function createProgressBar(stream: ProgressStream = process.stderr, width = 30) {
  let phase: ProgressEvent['phase'] | null = null;
  let phaseStarted = performance.now();
  let lastDecile = -1;
  return {
    update(event: ProgressEvent) {
      if (event.phase !== phase) {
        if (phase !== null && stream.isTTY) stream.write('\n');
        phase = event.phase;
        phaseStarted = performance.now();
        lastDecile = -1;
      }
      const share = event.total === 0 ? 1 : event.done / event.total;
      const elapsed = (performance.now() - phaseStarted) / 1000;
      const eta = event.done > 0 ? (elapsed / event.done) * (event.total - event.done) : 0;
      const filled = Math.round(share * width);
      const label = event.phase === 'ingest' ? 'knowledge base' : 'cases';
      const line = `${label.padEnd(14)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${event.done}/${event.total}${
        event.top1 === undefined ? '' : `  top1 ${(event.top1 * 100).toFixed(1)} %`
      }  ${duration(elapsed)} elapsed${event.done < event.total ? `, ~${duration(eta)} left` : ''}`;
      if (stream.isTTY) {
        stream.write(`\r${line}\u001b[K`);
        if (event.done >= event.total) stream.write('\n');
        return;
      }
      const decile = Math.floor(share * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${line}\n`);
      }
    },
  };
}
