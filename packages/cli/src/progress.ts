/** Seconds as 1h02m, 3m05s or 12s. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  s = Math.round(s);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * A one-line progress bar on a TTY (redrawn in place), plain lines every few seconds otherwise
 * (logs and CI keep a readable record instead of carriage-return soup).
 */
export class ProgressBar {
  private lastPlain = 0;
  private drawn = false;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly plainEverySeconds = 15,
  ) {}

  get isTTY(): boolean {
    return Boolean(this.stream.isTTY) && process.env.CI !== 'true';
  }

  update(label: string, done: number, total: number, info: string, elapsed: number): void {
    const eta = done > 0 ? (elapsed * (total - done)) / done : NaN;
    if (this.isTTY) {
      const width = Math.max(10, Math.min(30, (this.stream.columns ?? 100) - 70));
      const fill = Math.round((width * done) / total);
      const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${info} ${formatDuration(elapsed)}<${formatDuration(eta)}`;
      this.stream.write(`\r${line.slice(0, (this.stream.columns ?? 200) - 1)}\x1b[K`);
      this.drawn = true;
    } else {
      const now = performance.now() / 1000;
      if (now - this.lastPlain >= this.plainEverySeconds || done === total) {
        this.lastPlain = now;
        this.stream.write(`${label} ${done}/${total} ${info} elapsed ${formatDuration(elapsed)}, left ~${formatDuration(eta)}\n`);
      }
    }
  }

  /** Ends the bar's line so that normal output follows on a fresh one. */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
