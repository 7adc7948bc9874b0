/**
 * Parsing on worker threads gives exactly what parsing on the calling thread gives, batch by
 * batch, for every format; and workerScript starts TypeScript entries from sources.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../ingest/batch.js';
import { readEvents, workerScript, type Format } from '../../ingest/index.js';
import { chunkBuffers } from '../../ingest/chunker.js';
import { codedWith } from '../../ingest/string-streams.js';
import { WorkerPool } from '../../ingest/worker-pool.js';
import { accounted } from './helpers.js';

function events(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      user_id: i % 7 === 0 ? i : `u${i % 500}`,
      time: i % 11 === 0 ? 'bad time' : new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      event: ['view', 'click', 'buy'][i % 3],
      latency_ms: i % 5 === 0 ? null : (i * 7.3) % 1000,
      ok: i % 2 === 0,
      props: { plan: i % 4 === 0 ? 'pro' : 'free', tags: i % 9 === 0 ? ['a', 'b'] : undefined },
      ...(i % 13 === 0 ? { [`rare_${i % 3}`]: i } : {}),
    });
  }
  return out;
}

function inputs(n: number): [Format, Buffer][] {
  const evs = events(n);
  const ndjson = evs.map((e, i) => (i % 97 === 0 ? '{broken' : JSON.stringify(e))).join('\n');
  const csv = 'user_id,time,event,latency_ms,ok,note\n' + evs.map((e, i) => `${e.user_id},${e.time},${e.event},${e.latency_ms ?? ''},${e.ok},"line ${i}\nnext, ""q"""`).join('\n');
  const log = evs.map((e, i) => `10.0.${i % 50}.1 - - [01/Jan/2026:00:${String(i % 60).padStart(2, '0')}:00 +0000] "GET /p/${i % 40} HTTP/1.1" 200 ${i} "-" "ua" 0.0${i % 10}`).join('\n');
  return [
    ['ndjson', Buffer.from(ndjson)],
    ['json', Buffer.from(JSON.stringify(evs, null, 1))],
    ['csv', Buffer.from(csv)],
    ['msgpack', pack(evs)],
    ['combined', Buffer.from(log)],
  ];
}

async function collect(body: Buffer, format: Format, workers: number): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for await (const b of readEvents(Readable.from([body]), { format, workers, chunkBytes: 64 * 1024 })) out.push(b);
  return out;
}

describe('worker parsing', () => {
  it('equals inline parsing batch by batch, for every format', async () => {
    for (const [format, body] of inputs(20_000)) {
      const inline = await collect(body, format, 0);
      const threaded = await collect(body, format, 2);
      expect(inline.length, format).toBeGreaterThan(3);
      expect(threaded.length, format).toBe(inline.length);
      for (let k = 0; k < inline.length; k++) {
        expect([...threaded[k].columns.keys()], `${format} batch ${k}`).toEqual([...inline[k].columns.keys()]);
        expect(threaded[k], `${format} batch ${k}`).toEqual(inline[k]);
      }
      const a = accounted(threaded);
      expect(a.accepted + a.rejected, format).toBe(a.lines);
      expect(a.lines, format).toBe(20_000);
    }
  });

  it('leaves every chunk to the workers while they live, and parses them all here without', async () => {
    const [, body] = inputs(20_000)[0];
    // A batch built on this thread is noted with the dictionaries it was coded against; one
    // decoded from a worker's message is not.
    const threaded = await collect(body, 'ndjson', 2);
    expect(threaded.length).toBeGreaterThan(3);
    expect(threaded.filter((b) => codedWith.has(b))).toEqual([]);
    const inline = await collect(body, 'ndjson', 0);
    expect(inline.every((b) => codedWith.has(b))).toBe(true);
  });

  it('parses an input smaller than one chunk without starting workers, with the same result', async () => {
    const [, body] = inputs(50)[0];
    const out: EventBatch[] = [];
    for await (const b of readEvents(Readable.from([body]), { format: 'ndjson', workers: 4 })) out.push(b);
    expect(out).toEqual(await collect(body, 'ndjson', 0));
  });
});

describe('worker pool', () => {
  it('sends each chunk buffer back for reuse, and chunks cut into reused buffers parse the same', async () => {
    const [, body] = inputs(20_000)[0];
    chunkBuffers.trim();
    const first = await collect(body, 'ndjson', 2);
    expect(chunkBuffers.idleBytes).toBeGreaterThan(0); // given back by the workers
    const again = await collect(body, 'ndjson', 2); // cut into those buffers
    expect(again).toEqual(first);
    expect(first).toEqual(await collect(body, 'ndjson', 0));
  });

  it('fails the chunks of a worker that dies, and never hands it more', async () => {
    const pool = new WorkerPool(1);
    const ctx = { format: 'ndjson' as const, options: { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, csv: null };
    const line = () => new TextEncoder().encode('{"user_id":"u","time":1790000000}\n');
    try {
      expect((await pool.run(line(), null, ctx, 7)).lines).toEqual(Int32Array.from([7]));
      const worker = (pool as unknown as { slots: { worker: Worker }[] }).slots[0].worker;
      const slow = new TextEncoder().encode('{"user_id":"u","time":1790000000,"pad":"xxxxxxxxxxxxxxxx"}\n'.repeat(200_000));
      const pending = pool.run(slow, null, ctx, 1); // long enough to be cut short
      await worker.terminate();
      await expect(pending).rejects.toThrow(/exited/);
      await expect(pool.run(line(), null, ctx, 1)).rejects.toThrow(/every parse worker has died/);
      expect(pool.hasRoom(2)).toBe(false);
    } finally {
      await pool.close();
    }
  });
});

describe('closing a parse pool', () => {
  it('keeps the process alive until the workers are gone, even when a reply lands meanwhile', () => {
    // A reply arriving after close() began used to drop the reference close() holds, and the
    // process, with nothing else to wait on, exited with status 0 before close() settled.
    const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./close-race.ts', import.meta.url))], { encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('closed\n');
    expect(run.status).toBe(0);
  });
});

describe('workerScript', () => {
  it('points at the .js file next to a compiled module', () => {
    expect(workerScript('file:///app/dist/ingest/read-events.js', 'parse-worker')).toEqual({ url: new URL('file:///app/dist/ingest/parse-worker.js'), execArgv: [] });
  });

  it('starts a TypeScript entry from sources', async () => {
    const { url, execArgv } = workerScript(import.meta.url, 'echo-worker');
    expect(url.protocol).toBe('data:');
    const worker = new Worker(url, { execArgv });
    try {
      const [answer] = await once(worker, 'message');
      expect(answer).toEqual({ url: new URL('./echo-worker.ts', import.meta.url).href, doubled: 42 });
    } finally {
      await worker.terminate();
    }
  });
});
