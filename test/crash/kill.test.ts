/**
 * Crash safety: a child ingests numbered batches and reports each acknowledged one; it is
 * SIGKILLed at random moments (after it is ready, or in every other round after its first
 * acknowledgement), 20 times. After each kill the store must open cleanly and hold
 * every acknowledged batch exactly once, and every other batch wholly or not at all, each row
 * with its values (rare fields too, which the WAL and the tails hold as sparse columns).
 * A bulk load (unlogged calls, made durable by flushes) is killed the same way: every batch a
 * resolved flush covered survives, and what survives is a prefix of the batches.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { dumpTable, rng, tempDir } from '../storage/helpers.js';

const CHILD = fileURLToPath(new URL('./ingest-child.ts', import.meta.url));

/**
 * Runs the child and kills it `delayMs` after it is ready, or with `afterAck` after its first
 * acknowledgement (a bulk child acknowledges only at its flushes, which a slow machine may not
 * reach within the delay: rounds killed before any would leave the test nothing to check).
 */
function runAndKill(dir: string, firstBatch: number, seed: number, delayMs: number, mode: Mode, afterAck: boolean): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(firstBatch), String(seed), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: number[] = [];
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === 'READY' && !afterAck) setTimeout(() => child.kill('SIGKILL'), delayMs);
        else if (line.startsWith('ACK ')) {
          if (afterAck && acks.length === 0) setTimeout(() => child.kill('SIGKILL'), delayMs);
          const last = Number(line.slice(4));
          // A bulk child's ACK covers every batch it ingested up to `last`.
          for (let b = mode === 'bulk' ? (acks.at(-1) ?? firstBatch - 1) + 1 : last; b <= last; b++) acks.push(b);
        }
      }
    });
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited on its own (${code}): ${stderr}`));
      else resolve(acks);
    });
  });
}

type Mode = 'logged' | 'bulk';

/**
 * `rounds` runs of the child in `mode`, each SIGKILLed after a random delay; after each, the
 * store opens cleanly with every acknowledged batch exactly once and every other batch whole or
 * absent (a bulk load also keeps only a prefix of its batches). Returns the batches acknowledged.
 */
async function killRounds(mode: Mode, rounds: number, seed: number): Promise<Set<number>> {
  const { dir, cleanup } = tempDir('shoal-crash-');
  const r = rng(seed);
  const acked = new Set<number>();
  let nextBatch = 1;
  try {
    for (let round = 0; round < rounds; round++) {
      const delayMs = 20 + Math.floor(r() * 400);
      // Every other round from the first acknowledgement on, so some batches are acknowledged whatever the machine's speed.
      const acks = await runAndKill(dir, nextBatch, round + 1, delayMs, mode, round % 2 === 1);
      for (const a of acks) acked.add(a);
      const store = await Store.open(dir);
      const table = store.has('crash') ? store.get('crash') : null;
      const rows = table === null ? [] : dumpTable(table);
      const byBatch = new Map<number, { size: number; seen: Set<number>; rows: number }>();
      let maxBatch = nextBatch - 1;
      for (const row of rows) {
        const b = row.values.batch as number;
        const i = row.values.i as number;
        expect([row.values.note ?? null, row.values.amount ?? null], `round ${round}: batch ${b} row ${i}`).toEqual([i % 16 === 3 ? `n${b}` : null, i % 20 === 7 ? b + i / 2 : null]);
        const entry = byBatch.get(b) ?? { size: row.values.size as number, seen: new Set<number>(), rows: 0 };
        entry.seen.add(row.values.i as number);
        entry.rows++;
        byBatch.set(b, entry);
        maxBatch = Math.max(maxBatch, b);
      }
      for (const a of acked) expect(byBatch.has(a), `round ${round}: acknowledged batch ${a} missing`).toBe(true);
      for (const [b, e] of byBatch) {
        expect(e.rows, `round ${round}: batch ${b} duplicated or partial`).toBe(e.size);
        expect(e.seen.size, `round ${round}: batch ${b} partial`).toBe(e.size);
      }
      if (mode === 'bulk') {
        const kept = [...byBatch.keys()].filter((b) => b >= nextBatch).sort((a, b) => a - b);
        expect(kept, `round ${round}: a bulk load kept batches that are not a prefix`).toEqual(kept.map((_, k) => nextBatch + k));
      }
      expect(table?.damaged ?? [], `round ${round}: damage after a crash`).toEqual([]);
      // Batches seen after recovery count as acknowledged from now on.
      for (const b of byBatch.keys()) acked.add(b);
      nextBatch = maxBatch + 1000;
      await store.close(round % 2 === 0);
    }
    return acked;
  } finally {
    cleanup();
  }
}

describe('crash safety', () => {
  it('keeps every acknowledged batch exactly once over 20 SIGKILLs', async () => {
    expect((await killRounds('logged', 20, 2026)).size).toBeGreaterThan(20);
  });

  it('keeps a prefix of a bulk load, every batch a flush made durable included, over 10 SIGKILLs', async () => {
    expect((await killRounds('bulk', 10, 2027)).size).toBeGreaterThan(20);
  });
});
