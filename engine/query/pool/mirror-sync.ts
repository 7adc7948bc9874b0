/**
 * The main thread's record of what one worker holds, and the shard descriptors built from it.
 *
 * A worker mirrors, per shard it owns, the actor dictionary (ids are dense and only ever
 * appended while a table is open) and the in-memory tails (rows are only ever appended;
 * a string column's dictionary only grows). So each task carries only what the worker has not
 * seen: actor values past the count it holds, tail rows past the row count it holds, new
 * dictionary entries. Segments travel as file paths.
 *
 * Threading: main thread only. Descriptors must be built in the order their messages are
 * posted to the worker (the record assumes every earlier message was delivered), and the
 * record is thrown away with the worker when it dies.
 *
 * When the shard names an actor file (`ShardSnapshot.actorFile`), the first task for a
 * dictionary sends the file and its count instead of those values: the worker reads them from
 * the file only if a query needs actor values, so a store of millions of actors is not copied
 * to every worker (nor loaded on the main thread) for queries that never look at them.
 */
import { SegmentReader } from '../../storage/segment-reader.js';
import { TailSource } from '../../storage/tail-source.js';
import type { Tail } from '../../storage/tail.js';
import type { Scalar } from '../../types.js';
import type { ActorFile, ShardSnapshot } from '../source.js';
import type { ShardTask, SourceDesc, TailDelta } from './wire.js';

const ids = new WeakMap<object, number>();
let nextId = 1;

/**
 * A process-wide id for an object (an actor array or a tail), and whether it is new.
 * Ids are never reused, so a dropped and recreated table never matches an old mirror.
 */
export function idOf(o: object): { id: number; fresh: boolean } {
  const known = ids.get(o);
  if (known !== undefined) return { id: known, fresh: false };
  const id = nextId++;
  ids.set(o, id);
  return { id, fresh: true };
}

/**
 * Whether workers can read the shard themselves: its sources are segment files that opened
 * (a quarantined segment exists only as manifest metadata on the main thread) and tails.
 */
export function describable(shard: ShardSnapshot): boolean {
  return shard.actorDict !== undefined && shard.sources.every((s) => (s instanceof SegmentReader && !s.quarantined) || s instanceof TailSource);
}

interface TailRecord {
  dictId: number;
  shard: number;
  rows: number;
  dictLens: Map<string, number>;
}

export class MirrorState {
  private readonly actorsSent = new Map<number, number>();
  private readonly tails = new Map<number, TailRecord>();

  /**
   * The descriptor of one shard for this worker, with the deltas it needs.
   * @param onNewDict called with an actor dictionary seen for the first time in this process
   */
  task(shard: ShardSnapshot, threshold: number, onNewDict: (actorDict: object, dictId: number) => void): ShardTask {
    const actorDict = shard.actorDict!;
    const dict = idOf(actorDict);
    if (dict.fresh) onNewDict(actorDict, dict.id);
    const dictId = dict.id;
    let sent = this.actorsSent.get(dictId);
    let actorFile: ActorFile | null = null;
    if (sent === undefined) {
      actorFile = shard.actorFile ?? null;
      sent = actorFile?.count ?? 0;
      this.actorsSent.set(dictId, sent);
    }
    const actorValues: Scalar[] = [];
    for (let id = sent; id < shard.actorCount; id++) actorValues.push(shard.actorValue(id));
    if (shard.actorCount > sent) this.actorsSent.set(dictId, shard.actorCount);
    const sources: SourceDesc[] = [];
    const tailDeltas: TailDelta[] = [];
    const live = new Set<number>();
    for (const src of shard.sources) {
      if (src instanceof SegmentReader) {
        sources.push({ kind: 'segment', path: src.path });
        continue;
      }
      const tail = (src as TailSource).tail;
      const tailId = idOf(tail).id;
      live.add(tailId);
      const delta = this.tailDelta(tail, tailId, src.rowCount, dictId);
      if (delta !== null) tailDeltas.push(delta);
      sources.push({ kind: 'tail', tailId, rows: src.rowCount });
    }
    const dropTails: number[] = [];
    for (const [tailId, rec] of this.tails) {
      if (rec.dictId === dictId && rec.shard === shard.shard && !live.has(tailId)) {
        dropTails.push(tailId);
        this.tails.delete(tailId);
      }
    }
    return { shard: shard.shard, dictId, actorCount: shard.actorCount, actorFile, actorFrom: sent, actorValues, threshold, sources, tailDeltas, dropTails };
  }

  /** Forgets a dictionary (its table is gone) and the tails of its shards. */
  forget(dictId: number): void {
    this.actorsSent.delete(dictId);
    for (const [tailId, rec] of this.tails) if (rec.dictId === dictId) this.tails.delete(tailId);
  }

  /** Rows [held, rows) of the tail, copied, with the dictionary entries the worker lacks. */
  private tailDelta(tail: Tail, tailId: number, rows: number, dictId: number): TailDelta | null {
    let rec = this.tails.get(tailId);
    if (rec === undefined) this.tails.set(tailId, (rec = { dictId, shard: tail.shard, rows: 0, dictLens: new Map() }));
    if (rows <= rec.rows) return null;
    const from = rec.rows;
    const columns = [];
    for (const [name, col] of tail.columns) {
      const dictFrom = rec.dictLens.get(name) ?? 0;
      const dict = col.dict === undefined ? [] : col.dict.slice(dictFrom);
      if (col.dict !== undefined) rec.dictLens.set(name, col.dict.length);
      // The first validity byte also holds rows < from: the same bits the worker already has.
      columns.push({ name, type: col.type, values: col.values.slice(from, rows), validity: col.validity.slice(from >> 3, (rows + 7) >> 3), dictFrom, dict });
    }
    rec.rows = rows;
    return { tailId, shard: tail.shard, generation: tail.generation, from, to: rows, actorIds: tail.actorIds.slice(from, rows), times: tail.times.slice(from, rows), columns };
  }
}
