/**
 * `npm run screenshots`: the README's pictures of every view (docs/screenshots/*.png, 1280×800),
 * taken from `shoal serve` over the demo table `npm start` loads (`shoal demo`, 300,000 events),
 * each view as it first opens. Needs Debian's chromium (or SHOAL_CHROMIUM), as the UI tests do.
 *
 *   npm run screenshots [-- --out DIR]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium, waitForStatus } from '../test/web/browser.js';
import { runCli } from '../test/server/run-cli.js';
import { startServer } from '../test/server/server-process.js';
import { REPO } from './peers/common.js';

/** File name, and the view's name in the URL. */
const VIEWS: [string, string][] = [['events', 'aggregate'], ['funnel', 'funnel'], ['sessions', 'sessions'], ['retention', 'retention'], ['paths', 'paths']];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(REPO, 'docs', 'screenshots') } } });
  mkdirSync(values.out, { recursive: true });
  const data = mkdtempSync(join(tmpdir(), 'shoal-shots-'));
  const demo = await runCli(['demo', '--data', data, '--events', '300000']);
  if (demo.status !== 0) throw new Error(`shoal demo failed: ${demo.stderr}`);
  const server = await startServer(data);
  const browser = await launchChromium();
  try {
    for (const [file, view] of VIEWS) {
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/?view=${view}&range=all`);
      // A view is done once its results say ready (or incomplete: a funnel whose builder is not filled in).
      await waitForStatus(page, ['ready', 'incomplete']);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const path = join(values.out, `${file}.png`);
      await page.screenshot({ path });
      process.stderr.write(`${path}\n`);
      await page.close();
    }
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(data, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`screenshots: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
