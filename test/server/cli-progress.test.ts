/**
 * The CLI progress bar on a terminal: the demo, which reads no input, reports its progress and
 * rate in events (it showed its event count as bytes, "97.7 KB/s"); ingests report bytes.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDemo } from '../../server/cli/demo-command.js';
import { formatCount, ProgressBar } from '../../server/cli/progress.js';
import { tempDir } from '../storage/helpers.js';

const ci = process.env.CI;
afterEach(() => {
  if (ci === undefined) delete process.env.CI;
  else process.env.CI = ci;
});

/** A stream that says it is a terminal, keeping what is drawn. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({ write: (chunk, _enc, done) => ((text += String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 200 });
  return { stream, text: () => text };
}

describe('progress bar', () => {
  it('shows the demo in events per second with its share of the events asked for', async () => {
    delete process.env.CI;
    const tty = terminal();
    const { dir, cleanup } = tempDir('shoal-progress-');
    try {
      const quiet = new Writable({ write: (_c, _e, done) => done() });
      await loadDemo({ dataDir: join(dir, 'd'), events: 200_000, out: quiet, progress: tty.stream });
    } finally {
      cleanup();
    }
    // The first chunk (50,000 of 200,000 events) is always drawn.
    expect(tty.text()).toMatch(/\rdemo \[#{6}\.{18}\]  25% 50,000 events  [\d,]+ events\/s ETA /);
    expect(tty.text()).not.toMatch(/B\/s/);
  }, 120_000);

  it('shows an ingest in bytes per second', () => {
    delete process.env.CI;
    const tty = terminal();
    new ProgressBar(tty.stream).update({ events: 10, bytes: 512, totalBytes: 1024, label: 'e.ndjson' });
    expect(tty.text()).toMatch(/^\re\.ndjson \[#{12}\.{12}\]  50% 10 events  [\d.]+ [KMG]?B\/s ETA /);
  });

  it('measures each file\'s rate from its own start, not from the start of the run', () => {
    delete process.env.CI;
    const tty = terminal();
    let nowMs = 1_000;
    const bar = new ProgressBar(tty.stream, () => nowMs);
    nowMs = 11_000;
    bar.update({ events: 1, bytes: 10 * 2 ** 20, totalBytes: 10 * 2 ** 20, label: 'a.ndjson' });
    expect(tty.text()).toContain(' 1.0 MB/s');
    bar.done();
    nowMs = 12_000;
    bar.update({ events: 1, bytes: 2 ** 20, totalBytes: 2 * 2 ** 20, label: 'b.ndjson' });
    // 1 MiB in the second since b.ndjson began, not 1 MiB over the 11 s since a.ndjson did.
    expect(tty.text()).toMatch(/\rb\.ndjson \[#{12}\.{12}\]  50% 1 events  1\.0 MB\/s ETA 1\.0s/);
  });

  it('writes counts rounded, with thousands separated by commas, as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 867_866.4, 999.5, 1_000_000_000, -1_234_567, -0.4, 2 ** 53]) {
      expect(formatCount(n)).toBe(Math.round(n) === 0 ? '0' : Math.round(n).toLocaleString('en-US'));
    }
  });
});
