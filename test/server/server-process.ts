/**
 * Runs `shoal serve` from the sources as a child process for process-level tests: start on a
 * free port, find the port in the startup line, send HTTP requests, kill or stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { CLI } from './run-cli.js';

export interface ServerChild {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node --import tsx server/cli.ts serve --data DIR --port 0` and waits until it listens. */
export function startServer(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', dataDir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving .* on http:\/\/[^:]+:(\d+)\//.exec(out);
      if (m) resolve({ child, port: Number(m[1]), stdout: () => out, stderr: () => err, exited });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    void exited.then(({ code, signal }) => reject(new Error(`server exited before listening (${code ?? signal}): ${err}`)));
  });
}

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP request to 127.0.0.1:port on its own connection. */
export function http(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs a query and returns its JSON result (throws on a non-200 answer). */
export async function queryJson(port: number, query: object): Promise<{ columns: { name: string }[]; rows: unknown[][] }> {
  const res = await http(port, 'POST', '/v1/query', JSON.stringify(query), { 'content-type': 'application/json' });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${res.text}`);
  return JSON.parse(res.text);
}

const T0 = Date.UTC(2026, 0, 1);

/** NDJSON of one request: `size` events all tagged with the request's batch id. */
export function batchBody(batch: number, size: number, r: () => number): string {
  let out = '';
  for (let i = 0; i < size; i++) {
    out += `${JSON.stringify({ user_id: `u${Math.floor(r() * 400)}`, time: T0 + Math.floor(r() * 5 * 86_400_000), batch, i, size })}\n`;
  }
  return out;
}
