/** Fixture for workers.test.ts: a TypeScript worker entry that answers with its own file URL. */
import { parentPort } from 'node:worker_threads';

const answer: { url: string; doubled: number } = { url: import.meta.url, doubled: 21 * 2 };
parentPort!.postMessage(answer);
