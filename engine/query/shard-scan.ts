/**
 * The aggregate operator over one shard (or, for plans that allow it, several shards into one
 * set of groups): scan → filter → group → accumulate, producing an `AggregatePartial`. Sources
 * outside the time range are skipped whole; row groups are skipped, or read without filtering,
 * by their zone maps.
 *
 * Threading: `aggregateShard` runs start to finish on one thread and owns every structure it
 * builds; different shards may run on different threads at once (the snapshot is immutable,
 * the plan is read-only). It checks `signal` between row groups, and the memory budget and
 * group limit as groups and sets grow.
 */
import { ShoalError } from '../errors.js';
import { derivedOf, keepDerived } from './block-derived.js';
import type { Value } from '../types.js';
import { accumulator, CountAcc, type Accumulator, type Batch } from './accumulators.js';
import { BucketIndexer } from './buckets.js';
import { FilterEvaluator } from './filter-eval.js';
import { countFromMetadata, countsOnly } from './count-metadata.js';
import { keepTopGroups, trimmableToTopGroups } from './finalize.js';
import { NONE, ALL } from './filter-zone.js';
import { GroupIndex } from './group-index.js';
import { ActorKey, bucketEncoder, keyEncoder, StringKey, type KeyEncoder } from './group-keys.js';
import { emptyStats, type AggregatePartial, type GroupSet, type ScanStats } from './partial.js';
import type { AggregatePlan, MeasureNode } from './plan.js';
import { RowGroupReader, Scratch } from './row-group.js';
import { pickKept } from './sample.js';
import { sourceInRange, type ShardSnapshot } from './source.js';

export interface ShardScanOptions {
  signal?: AbortSignal;
}

/**
 * One accumulator per distinct (op, column): `sum(x)` and `avg(x)` share one, and so do
 * repeated measures. The returned list is parallel to `nodes` (entries may repeat).
 */
function sharedAccumulators(nodes: MeasureNode[]): Accumulator[] {
  const byKey = new Map<string, Accumulator>();
  return nodes.map((n) => {
    const key = `${n.op}:${JSON.stringify(n.column)}`;
    let a = byKey.get(key);
    if (a === undefined) byKey.set(key, (a = accumulator(n)));
    return a;
  });
}

interface ActorRuns {
  count: number;
  /** Run k is rows [ends[k−1], ends[k]) of the row group, all of actor actors[k]. */
  ends: Int32Array;
  actors: Uint32Array;
}

/** The runs of equal ids in ids[0 … n), kept beside a whole block's array (block-derived.ts: a block cache hands out the same array again). */
function actorRunsOf(ids: Uint32Array, n: number): ActorRuns {
  const known = derivedOf<ActorRuns>(ids, 'runs');
  if (known !== undefined && (known.count === 0 ? 0 : known.ends[known.count - 1]) === n) return known;
  let count = 0;
  for (let i = 0; i < n; i++) count += +(i === 0 || ids[i] !== ids[i - 1]);
  const ends = new Int32Array(count);
  const actors = new Uint32Array(count);
  let k = -1;
  for (let i = 0; i < n; i++) {
    if (i === 0 || ids[i] !== ids[i - 1]) actors[++k] = ids[i];
    ends[k] = i + 1;
  }
  const runs = { count, ends, actors };
  keepDerived(ids, 'runs', 8 * count + 64, runs);
  return runs;
}

/** Per-series state beside the per-bucket groups (see AggregatePlan.totals). */
class SeriesTotals {
  readonly index: GroupIndex;
  readonly accs: Accumulator[];
  private readonly unique: Accumulator[];
  private seriesOf = new Int32Array(64);
  private mapped = 0;
  private tgids = new Int32Array(0);
  private readonly tuple: Int32Array;

  constructor(width: number, plan: AggregatePlan) {
    this.index = new GroupIndex(width, plan.limits.maxGroups);
    this.accs = sharedAccumulators(plan.totals!);
    this.unique = [...new Set(this.accs)];
    this.tuple = new Int32Array(width);
  }

  /** Folds a batch whose rows carry main group ids into the series totals. */
  update(main: GroupIndex, b: Batch): void {
    for (let g = this.mapped; g < main.size; g++) {
      for (let j = 0; j < this.tuple.length; j++) this.tuple[j] = main.keyOf(g, j + 1);
      if (g >= this.seriesOf.length) {
        const next = new Int32Array(Math.max(g + 1, this.seriesOf.length * 2));
        next.set(this.seriesOf);
        this.seriesOf = next;
      }
      this.seriesOf[g] = this.index.lookup(this.tuple);
    }
    this.mapped = main.size;
    if (this.tgids.length < b.n) this.tgids = new Int32Array(Math.max(b.n, this.tgids.length * 2));
    const gids = b.gids!;
    for (let i = 0; i < b.n; i++) this.tgids[i] = this.seriesOf[gids[i]];
    const batch = { ...b, gids: this.tgids };
    for (const a of this.unique) {
      a.grow(this.index.size);
      a.update(batch);
    }
  }

  bytes(): number {
    return this.index.bytes() + this.seriesOf.byteLength + this.unique.reduce((s, a) => s + a.bytes(), 0);
  }

  result(encoders: KeyEncoder[]): GroupSet {
    const groups = this.index.size;
    const keys = encoders.slice(1).map((enc, j) => Array.from({ length: groups }, (_, g) => enc.value(this.index.keyOf(g, j))));
    return { groups, keys, states: this.accs.map((a) => a.state(groups)) };
  }
}

class AggregateScan {
  private readonly scratch = new Scratch();
  private shard!: ShardSnapshot;
  private readonly shardIds: number[] = [];
  private reader!: RowGroupReader;
  private filter!: FilterEvaluator;
  private readonly encoders: KeyEncoder[];
  private readonly index: GroupIndex | null;
  private readonly direct: boolean;
  private readonly accs: Accumulator[];
  private readonly unique: Accumulator[];
  private readonly totals: SeriesTotals | null;
  private keyCols: Int32Array[] = [];
  private gids = new Int32Array(0);
  /** Grouped by the actor alone: rows come in runs of one actor (see assignActorRuns). */
  private readonly actorKey: ActorKey | null;
  private runEnds = new Int32Array(0);
  /** Some accumulator reads per-row group ids even when a batch has runs. */
  private readonly rowGids: boolean;
  private runGids = new Int32Array(0);
  /** Set when the only measure counts rows and the grouping allows counting without row ids. */
  private rowCounter: CountAcc | null = null;
  private tallyKey: StringKey | null = null;
  private readonly addCount = (id: number, k: number): void => this.rowCounter!.add(id, k);
  private groups = 0;
  /** A sampled shard's kept actors, when the scan reads its own sources and drops the other actors' rows (ShardSnapshot.actorFilter). */
  private keep: Uint8Array | null = null;
  private keptRows = new Uint32Array(0);
  readonly stats: ScanStats = emptyStats();
  private memoryBytes = 0;

  constructor(private readonly plan: AggregatePlan) {
    const b = plan.group.bucket;
    this.encoders = [...(b === null ? [] : [bucketEncoder(new BucketIndexer(b.boundaries))]), ...plan.group.keys.map((k) => keyEncoder(k.column))];
    // One dense key column: its value ids are the group ids, no group table needed.
    this.direct = this.encoders.length === 1 && this.encoders[0].dense;
    this.index = this.encoders.length > 0 && !this.direct ? new GroupIndex(this.encoders.length, plan.limits.maxGroups) : null;
    this.accs = sharedAccumulators(plan.measures);
    this.unique = [...new Set(this.accs)];
    this.actorKey = this.encoders.length === 1 && this.encoders[0] instanceof ActorKey ? this.encoders[0] : null;
    this.rowGids = !this.unique.every((a) => a.foldsRuns === true) || plan.totals !== null;
    this.totals = plan.totals === null ? null : new SeriesTotals(plan.group.keys.length, plan);
    const only = this.unique.length === 1 ? this.unique[0] : null;
    if (only instanceof CountAcc && only.countsRows && this.totals === null) {
      if (this.encoders.length === 0) this.rowCounter = only;
      else if (this.direct && this.encoders[0] instanceof StringKey) {
        this.rowCounter = only;
        this.tallyKey = this.encoders[0];
      }
    }
  }

  /**
   * Row counts only, ungrouped or by one string column: counted without a selection vector
   * or per-row group ids (filter.count, StringKey.tally). Returns false to take the general path.
   */
  private countRowGroup(verdict: number): boolean {
    const r = this.reader;
    const acc = this.rowCounter!;
    const key = this.tallyKey;
    if (key === null) {
      const n = this.keep !== null ? this.selection(verdict).n : verdict === ALL ? r.rowCount : this.filter.count(r);
      if (n > 0) {
        acc.add(0, n);
        this.groups = 1;
      }
      return true;
    }
    const folded = verdict === ALL || this.keep !== null ? null : this.filter.codeTable(r);
    if (folded !== null) {
      // One string leaf: fold its match table into the tally, no selection vector.
      if (!key.tally(r, null, r.rowCount, this.addCount, folded)) return false;
    } else {
      const { n, sel } = this.selection(verdict);
      if (n > 0 && !key.tally(r, sel, n, this.addCount)) return false;
    }
    this.groups = key.size();
    if (this.groups > this.plan.limits.maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [this.plan.limits.maxGroups]);
    return true;
  }

  /**
   * The current row group's rows that pass the filter, and belong to kept actors on a sampled
   * shard: a count and a selection (null: every row), valid until the next call.
   */
  private selection(verdict: number): { n: number; sel: Uint32Array | null } {
    const r = this.reader;
    const passed = verdict === ALL ? { n: r.rowCount, sel: null } : this.filter.select(r);
    const keep = this.keep;
    if (keep === null) return passed;
    if (this.keptRows.length < r.rowCount) this.keptRows = new Uint32Array(this.scratch.iota.length);
    const n = pickKept(passed.sel, passed.n, r.actorIds(), keep, this.keptRows);
    return n === r.rowCount ? { n, sel: null } : { n, sel: this.keptRows.subarray(0, n) };
  }

  private ensureBuffers(n: number): void {
    this.scratch.ensure(n);
    if (this.gids.length >= n || this.encoders.length === 0) return;
    const cap = this.scratch.iota.length;
    this.gids = new Int32Array(cap);
    this.keyCols = this.encoders.map(() => new Int32Array(cap));
    if (this.actorKey !== null) {
      this.runEnds = new Int32Array(cap);
      this.runGids = new Int32Array(cap);
    }
  }

  /**
   * Group ids of the selected rows when the actor is the only key, and the runs of one actor:
   * rows of a segment are sorted by actor, so a run (a dozen rows or more) costs one group
   * lookup and lets counts and sums fold it at once. In the tail, runs are mostly single rows.
   */
  private assignActorRuns(r: RowGroupReader, rows: Uint32Array, n: number, contiguous: boolean): NonNullable<Batch['runs']> {
    this.actorKey!.attach(r);
    const ids = r.actorIds();
    const index = this.index!;
    const rg = this.runGids;
    if (contiguous) {
      // the whole row group: its runs are known from earlier queries (cached per decoded block)
      const { count, ends, actors } = actorRunsOf(ids, n);
      for (let k = 0; k < count; k++) rg[k] = index.lookupValue(actors[k]);
      if (this.rowGids) {
        for (let k = 0, at = 0; k < count; k++) {
          this.gids.fill(rg[k], at, ends[k]);
          at = ends[k];
        }
      }
      return { count, ends, gids: rg, contiguous };
    }
    const gids = this.gids;
    const ends = this.runEnds;
    let k = 0;
    let prev = -1;
    let g = -1;
    // gids[i] = group of ids[rows[i]]; a new run wherever the actor changes
    for (let i = 0; i < n; i++) {
      const id = ids[rows[i]];
      if (id !== prev) {
        if (k > 0) ends[k - 1] = i;
        g = index.lookupValue(id);
        rg[k++] = g;
        prev = id;
      }
      gids[i] = g;
    }
    if (k > 0) ends[k - 1] = n;
    return { count: k, ends, gids: rg, contiguous };
  }

  private checkMemory(): void {
    let bytes = this.index?.bytes() ?? 0;
    for (const e of this.encoders) bytes += e.bytes();
    for (const a of this.unique) bytes += a.bytes();
    if (this.totals !== null) bytes += this.totals.bytes();
    this.memoryBytes = bytes;
    const budget = this.plan.limits.memoryBudgetBytes;
    if (bytes > budget) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [budget, `${this.groups} groups, ~${bytes} bytes in shard ${this.shard.shard}`]);
  }

  /** Folds the current row group into the groups. */
  private rowGroup(): void {
    const r = this.reader;
    this.ensureBuffers(r.rowCount);
    const verdict = this.filter.verdict(r);
    if (verdict === NONE) return;
    this.stats.rowsScanned += r.rowCount;
    if (this.rowCounter !== null && this.countRowGroup(verdict)) return;
    const { n, sel } = this.selection(verdict);
    if (n === 0) return;
    const rows = sel ?? this.scratch.iota;
    let gids: Int32Array | null = null;
    let runs: Batch['runs'];
    if (this.actorKey !== null) {
      runs = this.assignActorRuns(r, rows, n, sel === null);
      this.groups = this.index!.size;
      gids = this.gids;
    } else if (this.direct) {
      this.encoders[0].encode(r, rows, n, this.keyCols[0]);
      this.groups = this.encoders[0].size();
      if (this.groups > this.plan.limits.maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [this.plan.limits.maxGroups]);
      gids = this.keyCols[0];
    } else if (this.index === null) {
      this.groups = 1;
    } else {
      for (let j = 0; j < this.encoders.length; j++) this.encoders[j].encode(r, rows, n, this.keyCols[j]);
      this.index.assign(this.keyCols, n, this.gids, this.encoders.map((e) => e.bound(r)));
      this.groups = this.index.size;
      gids = this.gids;
    }
    const batch: Batch = { r, rows, n, gids, runs };
    for (const a of this.unique) {
      a.grow(this.groups);
      a.update(batch);
    }
    if (this.totals !== null && this.index !== null) this.totals.update(this.index, batch);
  }

  /** Folds one shard's rows into the groups (several shards only when `scansAcrossShards`). */
  scan(shard: ShardSnapshot, signal: AbortSignal | undefined): this {
    this.shard = shard;
    this.shardIds.push(shard.shard);
    this.reader = new RowGroupReader(shard);
    // per shard: actor predicates cache by the shard's dense actor ids
    this.filter = new FilterEvaluator(this.plan.filter.predicate, this.scratch);
    // A sampled shard: its own sources (zone maps intact), filtered here by actor.
    this.keep = shard.actorFilter?.keep ?? null;
    const { fromMs, toMs } = this.plan.scan;
    const bucket = this.plan.group.bucket;
    const noBuckets = bucket !== null && bucket.boundaries.length < 2;
    for (const source of shard.actorFilter?.sources ?? shard.sources) {
      if (noBuckets || !sourceInRange(source, fromMs, toMs)) {
        this.stats.segmentsSkipped++;
        continue;
      }
      const before = this.stats.rowsScanned;
      for (let g = 0; g < source.rowGroups.length; g++) {
        signal?.throwIfAborted();
        this.reader.reset(source, g);
        this.rowGroup();
        this.checkMemory();
      }
      if (this.stats.rowsScanned > before) this.stats.segmentsScanned++;
      else this.stats.segmentsSkipped++;
    }
    return this;
  }

  result(): AggregatePartial {
    const groups = this.groups;
    const keyOf = (g: number, j: number): number => (this.index === null ? g : this.index.keyOf(g, j));
    const keys: Value[][] = this.encoders.map((enc, j) => Array.from({ length: groups }, (_, g) => enc.value(keyOf(g, j))));
    let main: GroupSet = { groups, keys, states: this.accs.map((a) => a.state(groups)) };
    // Groups by actor are whole in this shard: only its top `limit` can reach the result.
    if (trimmableToTopGroups(this.plan)) main = keepTopGroups(main, this.plan);
    return {
      kind: 'aggregate',
      shards: this.shardIds.slice(),
      actorKeyed: this.plan.group.keys.some((k) => k.column.kind === 'actor'),
      memoryBytes: this.memoryBytes,
      main,
      totals: this.totals === null ? null : this.totals.result(this.encoders),
      stats: this.stats,
    };
  }
}

/** Runs an aggregate plan over one shard. */
export function aggregateShard(shard: ShardSnapshot, plan: AggregatePlan, options: ShardScanOptions = {}): AggregatePartial {
  return (countsOnly(plan) ? countFromMetadata(shard, plan) : null) ?? new AggregateScan(plan).scan(shard, options.signal).result();
}

/**
 * Whether one scan may fold several shards into one set of groups and give exactly the merge of
 * their partials: no group keyed by the actor and no uniq($actor) counted per shard (both use
 * per-shard dense actor ids), and no float sums (their rounding depends on the order of
 * additions; every other state merges exactly in any order). Saves per-shard group tables,
 * sketches, a merge and the transfer of each shard's partial.
 */
export function scansAcrossShards(plan: AggregatePlan): boolean {
  if (plan.totals !== null || plan.group.keys.some((k) => k.column.kind === 'actor')) return false;
  return plan.measures.every((m) => m.op !== 'actorDistinct' && m.state !== 'sum');
}

/** Runs an aggregate plan over shards into one partial (the plan must pass `scansAcrossShards`). */
export function aggregateShards(shards: readonly ShardSnapshot[], plan: AggregatePlan, options: ShardScanOptions = {}): AggregatePartial {
  const scan = new AggregateScan(plan);
  for (const shard of shards) scan.scan(shard, options.signal);
  return scan.result();
}
