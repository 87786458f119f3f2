// The import's progress bar: rows, rows/s, bytes read of the total, on one redrawn line of stderr.
// Drawn only when stderr is a terminal; piped or redirected output gets no bar (and no control codes).
import type { ImportProgress } from '../crm/import.ts';

export interface ProgressBar {
  update(p: ImportProgress): void;
  done(): void;
}

const WIDTH = 24;
const REDRAW_MS = 100;

export function progressBar(stream: NodeJS.WriteStream, totalBytes: number | undefined): ProgressBar {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = Date.now();
  let drawn = 0;
  let last: ImportProgress = { rows: 0, bytes: 0 };
  const draw = () => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const fraction = totalBytes ? Math.min(last.bytes / totalBytes, 1) : 0;
    const filled = Math.round(fraction * WIDTH);
    const bar = totalBytes ? `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ` : '';
    const rate = Math.round(last.rows / seconds);
    stream.write(`\r${bar}${last.rows.toLocaleString('en')} rows  ${rate.toLocaleString('en')} rows/s  ${size(last.bytes)}${totalBytes ? ` / ${size(totalBytes)}` : ''}\x1b[K`);
    drawn = Date.now();
  };
  return {
    update(p) {
      last = p;
      if (Date.now() - drawn >= REDRAW_MS) draw();
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
