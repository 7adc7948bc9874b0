/**
 * Sessions streamed: instead of gathering every event of a shard and walking them actor by
 * actor (sessions.ts), each row group's rows update per-actor state held in flat arrays
 * indexed by dense actor id — the open session's first and last event time, its event count
 * and its first event's group keys — in the order streamActorRows delivers them (every
 * actor's events in (time, arrival) order). A session is emitted when the next event of its
 * actor starts another, and the sessions still open at the end in ascending actor id.
 *
 * Sessions come out in another order than sessions.ts's (by closing time, not by actor), so
 * group ids differ; the finalized result does not (ties are broken by group values, and the
 * states are order-free) — except `uniq($actor)`'s per-group last-actor count, which needs an
 * actor's sessions together: such plans are not streamed (canStreamSessions).
 *
 * Threading: one SessionsStream per shard run; owns its arrays.
 */
import type { MeasureNode } from '../plan.js';
import type { RowBatch } from './actor-stream.js';
import type { CodeIds } from '../group-keys.js';
import { PendingKeys } from './pending-keys.js';
import { sessionRunsOf, type SessionRuns } from './session-runs.js';

/** Per-actor state bytes: first and last time, count, one key id per extra and a pending index. */
export function sessionActorBytes(extras: number): number {
  return 8 + 8 + 4 + 4 * extras + (extras > 0 ? 4 : 0);
}

/** Whether a sessions plan's measures can take sessions in any order (no per-group distinct actor count). */
export function canStreamSessions(measures: readonly MeasureNode[], totals: readonly MeasureNode[] | null): boolean {
  return ![...measures, ...(totals ?? [])].some((n) => n.op === 'actorDistinct');
}

/**
 * Sessions closed together, column-wise: session i is actor[i]'s, its first event at
 * firstMs[i], lasting durationMs[i] over events[i] events; keys[x][i] is extra x of its
 * first event. Handed to a SessionSink a batch at a time, so that group lookups and state
 * updates run as tight loops over arrays instead of a call chain per session.
 */
export class ClosedSessions {
  n = 0;
  actor = new Int32Array(256);
  firstMs = new Float64Array(256);
  durationMs = new Float64Array(256);
  /** A float array, as durations are: the per-field loops then see one array type. */
  events = new Float64Array(256);
  /** ref[i]: the noted index (PendingKeys) of session i's first event, or −1: its keys are its actor's open session's. */
  ref = new Int32Array(256);
  keys: Int32Array[];

  constructor(extras: number) {
    this.keys = Array.from({ length: extras }, () => new Int32Array(256));
  }

  push(a: number, firstMs: number, durationMs: number, events: number, ref: number): void {
    this.pushIf(a, firstMs, durationMs, events, ref, 1);
  }

  /** Adds the session when `yes` is 1, not when it is 0 (for loops that avoid branching on it). */
  pushIf(a: number, firstMs: number, durationMs: number, events: number, ref: number, yes: number): void {
    if (this.n === this.actor.length) this.grow();
    const i = this.n;
    this.actor[i] = a;
    this.firstMs[i] = firstMs;
    this.durationMs[i] = durationMs;
    this.events[i] = events;
    this.ref[i] = ref;
    this.n = i + yes;
  }

  private grow(): void {
    const cap = 2 * this.actor.length;
    const more = <T extends Int32Array | Float64Array>(x: T): T => {
      const y = new (x.constructor as new (n: number) => T)(cap);
      y.set(x as never);
      return y;
    };
    this.actor = more(this.actor);
    this.firstMs = more(this.firstMs);
    this.durationMs = more(this.durationMs);
    this.events = more(this.events);
    this.ref = more(this.ref);
    this.keys = this.keys.map(more);
  }
}

/** Receives closed sessions (all of `s.keys` filled in), a batch at a time. */
export interface SessionSink {
  emitMany(s: ClosedSessions): void;
}

/** Open sessions emitted per batch by `finish` (bounds the batch arrays at a million actors). */
const FINISH_BATCH = 4096;

export class SessionsStream {
  private readonly firstT: Float64Array;
  /** Time of each actor's last event: the open session's end, and the order check. */
  private readonly lastT: Float64Array;
  private readonly count: Int32Array;
  /** keys[x][a]: extra x of actor a's open session's first event. */
  private readonly keys: Int32Array[];
  /** First events of this batch's new sessions, keys not yet encoded; pendingOf[a]: the noted index of actor a's open session, or −1. */
  private readonly pending: PendingKeys;
  private readonly pendingOf: Int32Array;
  /** Sessions closed in this batch, emitted at its end. */
  private readonly closed: ClosedSessions;
  /** addRuns's two-way choice between floats (a select without a branch). */
  private readonly pick = new Float64Array(2);
  /**
   * The current batch's extra columns as codes with value ids (RowBatch.codeIds), when addRuns
   * reads each session's keys as it starts instead of noting its first event (null: noted).
   */
  private direct: CodeIds[] | null = null;
  readonly sink = (b: RowBatch): boolean => {
    if (!this.add(b)) return false;
    // Outside `add`, as in funnel-stream.ts: code after a loop compiled on stack has no type feedback.
    this.release(b);
    return true;
  };

  constructor(private readonly actorCount: number, extras: number, private readonly gapMs: number, private readonly maxDurationMs: number, private readonly out: SessionSink) {
    this.firstT = new Float64Array(actorCount);
    this.lastT = new Float64Array(actorCount).fill(-Infinity);
    this.count = new Int32Array(actorCount);
    this.keys = Array.from({ length: extras }, () => new Int32Array(actorCount));
    this.pending = new PendingKeys(extras);
    this.pendingOf = new Int32Array(extras === 0 ? 0 : actorCount).fill(-1);
    this.closed = new ClosedSessions(extras);
  }

  /** One batch: run by run when the row group's session runs are at hand (session-runs.ts), else row by row. */
  private add(b: RowBatch): boolean {
    this.direct = null;
    if (b.whole) {
      const runs = sessionRunsOf(b.actorIds, b.times, b.m, this.gapMs);
      if (runs !== null) {
        // Keys read as sessions start, when the extra columns are codes without nulls; else noted and encoded at the end.
        if (this.keys.length > 0) this.direct = b.codeIds();
        return this.addRuns(b, runs);
      }
    }
    return this.addRows(b);
  }

  /**
   * One batch: sessions.ts's per-actor loop with the open session of the current actor in
   * locals (a segment's rows come in runs of one actor), saved at each change of actor. Long
   * because it is the hot loop. Sessions that close are held until the end of the batch,
   * where the first events of the batch's new sessions get their keys encoded.
   */
  private addRows(b: RowBatch): boolean {
    const { m: n, rows, actorIds, times } = b;
    const { firstT, lastT, count, pendingOf } = this;
    const keyed = this.keys.length > 0;
    const gap = this.gapMs;
    const maxDur = this.maxDurationMs;
    const A = this.actorCount;
    let cur = -1;
    let first = 0;
    let prev = -Infinity;
    let c = 0;
    for (let j = 0; j < n; j++) {
      const r = rows[j];
      const a = actorIds[r];
      const t = times[r];
      if (a !== cur) {
        if (cur >= 0) {
          firstT[cur] = first;
          lastT[cur] = prev;
          count[cur] = c;
        }
        if (a >= A) return false; // an actor id beyond the snapshot's
        cur = a;
        first = firstT[a];
        prev = lastT[a];
        c = count[a];
      }
      if (t < prev) return false; // out of time order (a source not sorted by actor and time)
      // A session ends at a gap longer than `gap`, or when it would grow longer than maxDuration.
      if (c > 0 && (t - prev > gap || t - first > maxDur)) {
        this.closed.push(a, first, prev - first, c, keyed ? pendingOf[a] : -1);
        c = 0;
      }
      if (c === 0) {
        first = t;
        if (keyed) pendingOf[a] = this.pending.note(a, j);
      }
      c++;
      prev = t;
    }
    if (cur >= 0) {
      firstT[cur] = first;
      lastT[cur] = prev;
      count[cur] = c;
    }
    return true;
  }

  /**
   * addRows over a whole row group (b.whole: row j is rows[j]) a run at a time: only a run's
   * first row may end the actor's open session or start one; the rest extend the session
   * (count and last time) at once — unless the session would outgrow its maximum duration
   * within the run, whose rows are then walked one by one.
   */
  private addRuns(b: RowBatch, runs: SessionRuns): boolean {
    const { m: n, actorIds, times } = b;
    const { starts, count: runCount } = runs;
    const { firstT, lastT, count, pendingOf, closed, pending, pick, direct } = this;
    const keyed = this.keys.length > 0;
    const gap = this.gapMs;
    const maxDur = this.maxDurationMs;
    const A = this.actorCount;
    // One key column (the usual group-by): its codes, ids and open keys in locals.
    const one = direct !== null && direct.length === 1 ? direct[0] : null;
    const oneCodes = one === null ? null : one.codes;
    const oneIds = one === null ? null : one.ids;
    const openKey = one === null ? null : this.keys[0];
    if (runCount === 0) return true;
    let cur = actorIds[starts[0]];
    if (cur >= A) return false;
    let first = firstT[cur];
    let prev = lastT[cur];
    let c = count[cur];
    // Whether a run starts another actor, and whether it ends the open session, follow no
    // pattern a processor learns: both are 0/1 integers here, not branches (Number(…)).
    for (let i = 0; i < runCount; i++) {
      const j0 = starts[i];
      const j1 = i + 1 < runCount ? starts[i + 1] : n;
      const a = actorIds[j0];
      const t0 = times[j0];
      if (a >= A) return false; // an actor id beyond the snapshot's
      // The open session of the run's actor, saved and loaded whether or not the actor changed.
      firstT[cur] = first;
      lastT[cur] = prev;
      count[cur] = c;
      first = firstT[a];
      prev = lastT[a];
      c = count[a];
      cur = a;
      if (t0 < prev) return false; // out of time order (a source not sorted by actor and time)
      // The open session ends at a gap longer than `gap`, or when it would grow longer than maxDuration.
      const ends = Number(c > 0) & (Number(t0 - prev > gap) | Number(t0 - first > maxDur));
      if (openKey !== null) {
        const at = closed.n;
        closed.pushIf(a, first, prev - first, c, -1, ends);
        closed.keys[0][at] = openKey[a];
      } else if (direct !== null) this.closeDirect(a, first, prev - first, c, ends);
      else closed.pushIf(a, first, prev - first, c, keyed ? pendingOf[a] : -1, ends);
      c *= 1 - ends;
      // A session starts at the run's first row: first = starting ? t0 : first.
      const starting = Number(c === 0);
      pick[0] = first;
      pick[1] = t0;
      first = pick[starting];
      if (openKey !== null) {
        // startDirect for the one key column.
        const code = oneCodes![j0];
        let id = oneIds![code];
        if (id < 0 && starting === 1) id = one!.idOfCode(code);
        openKey[a] += (id - openKey[a]) * starting;
      } else if (direct !== null) this.startDirect(a, j0, starting);
      else if (keyed) pendingOf[a] += (pending.noteIf(a, j0, starting) - pendingOf[a]) * starting;
      const tl = times[j1 - 1];
      if (tl - first <= maxDur) {
        c += j1 - j0;
        prev = tl;
        continue;
      }
      c++;
      prev = t0;
      for (let j = j0 + 1; j < j1; j++) {
        const t = times[j];
        if (t - first > maxDur) {
          if (direct !== null) this.closeDirect(a, first, prev - first, c, 1);
          else closed.push(a, first, prev - first, c, keyed ? pendingOf[a] : -1);
          c = 0;
          first = t;
          if (direct !== null) this.startDirect(a, j, 1);
          else if (keyed) pendingOf[a] = pending.note(a, j);
        }
        c++;
        prev = t;
      }
    }
    firstT[cur] = first;
    lastT[cur] = prev;
    count[cur] = c;
    return true;
  }

  /**
   * With direct keys: adds actor a's open session to the closed ones, with its keys (its actor's
   * open-session keys), when `yes` is 1 (ClosedSessions.pushIf).
   */
  private closeDirect(a: number, firstMs: number, durationMs: number, events: number, yes: number): void {
    const closed = this.closed;
    const i = closed.n;
    closed.pushIf(a, firstMs, durationMs, events, -1, yes);
    for (let x = 0; x < this.keys.length; x++) closed.keys[x][i] = this.keys[x][a];
  }

  /** With direct keys: when `yes` is 1, actor a's open session starts at batch row j, and takes that row's keys. */
  private startDirect(a: number, j: number, yes: number): void {
    const direct = this.direct!;
    for (let x = 0; x < direct.length; x++) {
      const { codes, ids } = direct[x];
      const code = codes[j];
      let id = ids[code];
      // A value gets its id when a session first starts at it (as encoding the noted first events does).
      if (id < 0 && yes === 1) id = direct[x].idOfCode(code);
      const open = this.keys[x];
      open[a] += (id - open[a]) * yes;
    }
  }

  /** End of a batch: encodes the new sessions' keys, emits the closed sessions, keeps the keys of the sessions still open. */
  private release(b: RowBatch): void {
    const p = this.pending;
    // Direct keys (addRuns): the closed sessions have theirs, the open ones their actors'.
    if (this.keys.length > 0 && this.direct === null) {
      p.encode(b);
      this.fillKeys(p.encoded);
      for (let i = 0; i < p.count; i++) this.pendingOf[p.actor[i]] = -1;
      p.applyTo(this.keys);
    }
    this.flush();
  }

  /** Fills in the closed sessions' keys: the noted first event's (encoded[x][ref]) or, for ref −1, the actor's open session's. */
  private fillKeys(encoded: Int32Array[]): void {
    const s = this.closed;
    const { n, ref, actor } = s;
    for (let x = 0; x < this.keys.length; x++) {
      const out = s.keys[x];
      const fresh = encoded[x];
      const open = this.keys[x];
      for (let i = 0; i < n; i++) {
        const f = ref[i];
        out[i] = f >= 0 ? fresh[f] : open[actor[i]];
      }
    }
  }

  private flush(): void {
    if (this.closed.n === 0) return;
    this.out.emitMany(this.closed);
    this.closed.n = 0;
  }

  /** Emits the sessions still open, in ascending actor id. */
  finish(): void {
    const s = this.closed;
    const { firstT, lastT, count } = this;
    for (let a = 0; a < this.actorCount; a++) {
      const c = count[a];
      if (c === 0) continue;
      s.push(a, firstT[a], lastT[a] - firstT[a], c, -1);
      if (s.n === FINISH_BATCH) {
        this.fillKeys(this.pending.encoded);
        this.flush();
      }
    }
    this.fillKeys(this.pending.encoded);
    this.flush();
  }
}
