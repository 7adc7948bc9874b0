/** Test helpers for storage: build EventBatches from plain events and dump what a table holds. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from '../../engine/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import type { Value } from '../../engine/types.js';
import { mulberry32 } from '../../bench/generator/rng.js';

export interface PlainEvent {
  user: string | number;
  timeMs: number;
  [column: string]: Value;
}

/** A batch of already-flattened events (actor in `user`, time in `timeMs`). */
export function batchOf(events: PlainEvent[], firstLine = 1): EventBatch {
  const columns = new Map<string, Value[]>();
  events.forEach((e, i) => {
    for (const key of Object.keys(e)) {
      if (key === 'user' || key === 'timeMs') continue;
      let col = columns.get(key);
      if (col === undefined) {
        col = new Array(events.length).fill(null);
        columns.set(key, col);
      }
      col[i] = e[key];
    }
  });
  return {
    count: events.length,
    lines: Int32Array.from(events, (_, i) => firstLine + i),
    timeMs: Float64Array.from(events, (e) => e.timeMs),
    actors: events.map((e) => e.user),
    columns,
    rejects: [],
    lineCount: events.length,
  };
}

export interface DumpedRow {
  shard: number;
  actor: string | number;
  timeMs: number;
  values: Record<string, Value>;
}

/** Every row of the table, per shard in source order (segments oldest first, then tails). */
export function dumpTable(table: Table): DumpedRow[] {
  const snap = table.snapshot();
  const rows: DumpedRow[] = [];
  try {
    const columns = [...snap.schema.keys()];
    for (const shard of snap.shards) {
      for (const src of shard.sources) {
        for (let g = 0; g < src.rowGroups.length; g++) {
          const ids = src.readActorIds(g);
          const times = (src.readColumn('$time', g) as { values: Float64Array }).values;
          const vecs = columns.map((c) => src.readColumn(c, g));
          for (let i = 0; i < ids.length; i++) {
            const values: Record<string, Value> = Object.create(null);
            vecs.forEach((v, k) => {
              if (v === null) return;
              if (v.validity !== null && (v.validity[i >> 3] & (1 << (i & 7))) === 0) return;
              values[columns[k]] = v.type === 'string' ? v.dict[v.codes[i]] : v.type === 'boolean' ? v.values[i] === 1 : v.values[i];
            });
            rows.push({ shard: shard.shard, actor: shard.actorValue(ids[i]) as string | number, timeMs: times[i], values });
          }
        }
      }
    }
  } finally {
    snap.release();
  }
  return rows;
}

/** Canonical order for comparing stored content regardless of segment layout. */
export function canonical(rows: DumpedRow[]): string[] {
  return rows.map((r) => JSON.stringify([r.shard, String(r.actor), r.timeMs, Object.entries(r.values).sort()])).sort();
}

export function tempDir(prefix = 'shoal-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A deterministic PRNG for tests (mulberry32). */
export const rng = mulberry32;
