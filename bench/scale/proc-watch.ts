/**
 * Runs a child process under watch: its memory is sampled from /proc/<pid>/status (VmRSS and
 * the kernel's own peak, VmHWM) every `sampleMs`, its CPU time from /proc/<pid>/stat, and it is
 * killed (SIGTERM, then SIGKILL after 10 s) when it outlives `timeoutMs`. The child is `node`
 * itself, so the pid sampled is the one doing the work (worker threads are threads of it and
 * count in its RSS). The outcome always comes back — exit code, signal, timeout — never a hang.
 *
 * The peak is the last VmHWM read before the child exited, so it misses at most the last
 * `sampleMs` of its life; samples also give RSS over time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface WatchedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  /** User + system CPU seconds of the child (all threads), from its last sample. */
  cpuSeconds: number;
  peakRssBytes: number;
  /** [seconds since start, VmRSS bytes] every `sampleMs`. */
  rssSamples: [number, number][];
  pid: number | null;
}

export interface WatchOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs: number;
  sampleMs?: number;
  /** Called with each chunk of the child's stderr (progress). */
  onStderr?: (text: string) => void;
  /** Called once the child is spawned (so an interrupt handler can kill it). */
  onSpawn?: (child: ChildProcess) => void;
}

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on Linux (x86-64 and arm64 alike). */
const CLOCK_TICKS_PER_SEC = 100;

/** VmRSS and VmHWM of `pid` in bytes, or null once it is gone. */
export function readMemory(pid: number | 'self'): { rssBytes: number; hwmBytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** utime + stime of `pid` in seconds (all threads), or null once it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may hold spaces) start at ") "; utime and stime are fields 14, 15
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/** Runs `node ...args`; resolves when it has exited (or was killed at the timeout). */
export function runWatched(args: string[], opts: WatchOptions): Promise<WatchedRun> {
  const sampleMs = opts.sampleMs ?? 250;
  const started = performance.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    opts.onSpawn?.(child);
    const run: WatchedRun = { code: null, signal: null, timedOut: false, stdout: '', stderr: '', wallSeconds: 0, cpuSeconds: 0, peakRssBytes: 0, rssSamples: [], pid: child.pid ?? null };
    const sample = (): void => {
      if (child.pid === undefined) return;
      const mem = readMemory(child.pid);
      const cpu = readCpuSeconds(child.pid);
      if (mem !== null && mem.hwmBytes > 0) {
        run.peakRssBytes = Math.max(run.peakRssBytes, mem.hwmBytes);
        run.rssSamples.push([(performance.now() - started) / 1000, mem.rssBytes]);
      }
      if (cpu !== null) run.cpuSeconds = Math.max(run.cpuSeconds, cpu);
    };
    const sampler = setInterval(sample, sampleMs);
    let killer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      run.timedOut = true;
      child.kill('SIGTERM');
      killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    }, opts.timeoutMs);
    child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      run.stderr += text;
      opts.onStderr?.(text);
    });
    const finish = (): void => {
      clearInterval(sampler);
      clearTimeout(timer);
      if (killer !== undefined) clearTimeout(killer);
      run.wallSeconds = (performance.now() - started) / 1000;
      done(run);
    };
    child.on('error', (err) => {
      run.stderr += `\nspawn failed: ${err.message}`;
      finish();
    });
    child.on('close', (code, signal) => {
      run.code = code;
      run.signal = signal;
      finish();
    });
  });
}

/** The last lines of a child's stderr, for an error message. */
export function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** At most `points` of `samples` ([seconds, bytes]), each the largest RSS of its stretch, as [seconds, MiB]. */
export function rssProfile(samples: [number, number][], points = 20): [number, number][] {
  const out: [number, number][] = [];
  const per = Math.max(1, Math.ceil(samples.length / points));
  for (let i = 0; i < samples.length; i += per) {
    const stretch = samples.slice(i, i + per);
    const top = stretch.reduce((a, b) => (b[1] > a[1] ? b : a));
    out.push([Math.round(top[0] * 10) / 10, Math.round(top[1] / 2 ** 20)]);
  }
  return out;
}
