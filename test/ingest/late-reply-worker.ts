/**
 * Fixture for workers.test.ts: answers a chunk at once (with a failure, which is all the pool
 * needs for a reply), then blocks outside JavaScript for two seconds, so a termination asked
 * for meanwhile takes that long to finish.
 */
import { execFileSync } from 'node:child_process';
import { parentPort } from 'node:worker_threads';

parentPort!.on('message', (msg: { id: number }) => {
  parentPort!.postMessage({ id: msg.id, error: 'a reply' });
  execFileSync('sleep', ['2']);
});
