/**
 * A one-line progress bar for long CLI ingests (events, MB/s, ETA), redrawn at most 10 times a
 * second on a terminal and silent elsewhere, plus number formatting shared by CLI output.
 */

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
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
  private readonly startMs = Date.now();
  private lastDrawMs = 0;
  private drawn = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.enabled = stream.isTTY === true && process.env.CI !== 'true';
  }

  /** Redraws the bar (throttled). `totalBytes` null means unknown size: no percentage or ETA. */
  update(p: { events: number; bytes: number; totalBytes: number | null; label: string }): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDrawMs < 100) return;
    this.lastDrawMs = now;
    const seconds = Math.max((now - this.startMs) / 1000, 1e-3);
    const rate = p.bytes / seconds;
    const width = 24;
    let bar = '';
    let tail = '';
    if (p.totalBytes !== null && p.totalBytes > 0) {
      const frac = Math.min(1, p.bytes / p.totalBytes);
      const fill = Math.round(frac * width);
      bar = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% `;
      tail = ` ETA ${formatDuration((p.totalBytes - p.bytes) / Math.max(rate, 1))}`;
    }
    const line = `${p.label} ${bar}${formatCount(p.events)} events  ${formatBytes(rate)}/s${tail}`;
    const cols = this.stream.columns ?? 100;
    this.stream.write(`\r${line.slice(0, cols - 1).padEnd(Math.min(cols - 1, line.length + 2))}`);
    this.drawn = true;
  }

  /** Clears the bar line before the summary is printed. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
