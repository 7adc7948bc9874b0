/** Builds a server over a temporary store for route tests. */
import { Store } from '../../engine/index.js';
import { buildApp, type AppOptions, type ShoalApp } from '../../server/app.js';
import { tempDir } from '../storage/helpers.js';

export interface TestServer extends ShoalApp {
  store: Store;
  dir: string;
  close(): Promise<void>;
}

export async function testServer(opts: Partial<AppOptions> = {}): Promise<TestServer> {
  const { dir, cleanup } = tempDir('shoal-server-');
  const store = await Store.open(dir, { log: () => {} });
  const shoal = await buildApp({ store, ...opts });
  return {
    ...shoal,
    store,
    dir,
    async close() {
      await shoal.shutdown();
      await store.close(false);
      cleanup();
    },
  };
}

export function ndjson(events: object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
