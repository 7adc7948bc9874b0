/**
 * The CLI progress bar on a terminal: the demo, which reads no input, reports its progress and
 * rate in events (it showed its event count as bytes, "97.7 KB/s"); ingests report bytes.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDemo } from '../../server/cli/demo-command.js';
import { ProgressBar } from '../../server/cli/progress.js';
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
});
