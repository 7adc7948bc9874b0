/**
 * A one-line progress bar for long CLI ingests (events, MB/s, ETA), redrawn at most 10 times a
 * second on a terminal and silent elsewhere, plus number formatting shared by CLI output.
 */

/**
 * `n` rounded, with thousands separated by commas ("1,234,567"), as toLocaleString('en-US')
 * writes it; without Intl, whose first use costs a CLI run ~25 ms of start-up at its summary.
 */
export function formatCount(n: number): string {
  const r = Math.round(n);
  const digits = String(Math.abs(r)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return r < 0 ? `-${digits}` : digits;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;
  private readonly clock: () => number;
  private startMs: number;
  private lastDrawMs = 0;
  private drawn = false;

  /** @param clock epoch ms now (tests give their own). */
  constructor(stream: NodeJS.WriteStream = process.stderr, clock: () => number = Date.now) {
    this.stream = stream;
    this.enabled = stream.isTTY === true && process.env.CI !== 'true';
    this.clock = clock;
    this.startMs = clock();
  }

  /**
   * Redraws the bar (throttled). Progress is by bytes (`totalBytes` null: unknown size, so no
   * percentage or ETA), or, for work that reads no input (the demo), by `totalEvents`, with the
   * rate in events per second.
   */
  update(p: { events: number; label: string } & ({ bytes: number; totalBytes: number | null } | { totalEvents: number })): void {
    if (!this.enabled) return;
    const now = this.clock();
    if (now - this.lastDrawMs < 100) return;
    this.lastDrawMs = now;
    const seconds = Math.max((now - this.startMs) / 1000, 1e-3);
    const byEvents = 'totalEvents' in p;
    const done = byEvents ? p.events : p.bytes;
    const total = byEvents ? p.totalEvents : p.totalBytes;
    const rate = done / seconds;
    const width = 24;
    let bar = '';
    let tail = '';
    if (total !== null && total > 0) {
      const frac = Math.min(1, done / total);
      const fill = Math.round(frac * width);
      bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% `;
      tail = ` ETA ${formatDuration(Math.max(0, total - done) / Math.max(rate, 1))}`;
    }
    const speed = byEvents ? `${formatCount(rate)} events/s` : `${formatBytes(rate)}/s`;
    const line = `${p.label} ${bar}${formatCount(p.events)} events  ${speed}${tail}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
    this.drawn = true;
  }

  /**
   * Clears the bar line (before the summary, or the next file's bar). The next update starts a new
   * bar: its rate and ETA count from now, as its bytes count from its own file's start.
   */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
    this.startMs = this.clock();
    this.lastDrawMs = 0;
  }
}
