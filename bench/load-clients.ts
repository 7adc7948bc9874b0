/**
 * Pieces of the HTTP load bench (bench/load.ts): the server as a child process, background
 * loops that keep a heavy query or a bulk ingest running, and plain keep-alive requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join, resolve as resolvePath } from 'node:path';
import { REPO } from './peers/common.js';

const CLI = join(REPO, 'server', 'cli.ts');

export interface ServerChild {
  child: ChildProcess;
  port: number;
  stop(): Promise<number | null>;
}

/**
 * Starts `shoal serve` on a free port and waits until it listens: from the TypeScript sources
 * through tsx, from the compiled dist/ (`npm run build` first) as `npm start` runs it, or from
 * another compiled tree (a directory holding server/cli.js, e.g. a private `.build-x/dist`).
 * `nodeArgs` go to the server's node (e.g. `--cpu-prof`).
 */
export function startServer(dataDir: string, from: string = 'src', env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<ServerChild> {
  const entry = from === 'src' ? ['--import', 'tsx', CLI] : from === 'dist' ? [join(REPO, 'bin', 'shoal.mjs')] : [join(resolvePath(from), 'server', 'cli.js')];
  const child = spawn(process.execPath, [...nodeArgs, ...entry, 'serve', '--data', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on http:\/\/[^:]+:(\d+)\//.exec(out);
      if (m !== null) {
        resolve({
          child,
          port: Number(m[1]),
          stop: async () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** One request on a keep-alive connection; resolves with status, text and elapsed ms. */
export function send(port: number, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8'), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface LoopStats {
  iterations: number;
  failures: number;
  latenciesMs: number[];
  /** Events accepted (ingest loops). */
  events: number;
  seconds: number;
}

/**
 * Runs `once` back to back on `parallel` lanes until stopped; returns what it did.
 * `once` resolves with the events it ingested (0 for queries) or throws on failure.
 */
export function backgroundLoop(parallel: number, once: () => Promise<number>): { stop(): Promise<LoopStats> } {
  const stats: LoopStats = { iterations: 0, failures: 0, latenciesMs: [], events: 0, seconds: 0 };
  let running = true;
  const started = performance.now();
  const lanes = Array.from({ length: parallel }, async () => {
    while (running) {
      const t = performance.now();
      try {
        // Not `stats.events += await once()`: that reads stats.events before the await, so
        // concurrent lanes would overwrite each other's counts (it halved the events counted).
        const events = await once();
        stats.events += events;
        stats.iterations++;
        stats.latenciesMs.push(performance.now() - t);
      } catch (err) {
        stats.failures++;
        process.stderr.write(`background request failed: ${(err as Error).message}\n`);
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(lanes);
      stats.seconds = (performance.now() - started) / 1000;
      return stats;
    },
  };
}

/** A query loop: throws unless the server answers 200. */
export function queryOnce(port: number, query: object): () => Promise<number> {
  const body = JSON.stringify(query);
  return async () => {
    const r = await send(port, 'POST', '/v1/query', body, { 'content-type': 'application/json' });
    if (r.status !== 200) throw new Error(`query answered ${r.status}: ${r.text.slice(0, 200)}`);
    return 0;
  };
}

/** An ingest loop posting NDJSON bodies to `table`, each in turn; resolves with events accepted. */
export function ingestOnce(port: number, table: string, bodies: Buffer[]): () => Promise<number> {
  let next = 0;
  return async () => {
    const body = bodies[next++ % bodies.length];
    const r = await send(port, 'POST', `/v1/tables/${table}/events`, body, { 'content-type': 'application/x-ndjson' });
    if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${r.text.slice(0, 200)}`);
    return (JSON.parse(r.text) as { accepted: number }).accepted;
  };
}

/** The p-th percentile (nearest rank) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
