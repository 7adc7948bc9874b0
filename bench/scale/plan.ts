/**
 * Chunk planning for the scale benchmark: N events are generated and ingested as independent
 * chunks, so no chunk file ever holds more than a few GB and an interrupted run can resume at a
 * chunk boundary.
 *
 * Chunk k is an ordinary run of the seeded generator (bench/generator.ts) with its own seed and
 * its own user count, whose user ids are shifted into a disjoint range: local user i of chunk k
 * is global user `userOffset_k + i + 1`. Each chunk is therefore independent of every other (a
 * chunk can be regenerated alone, byte for byte) and the actors of two chunks never overlap.
 * The generator's model (activity skew, sessions, funnels, the 30-day window) holds within each
 * chunk; across chunks the data is a union of independent populations over the same window.
 */

export interface ChunkPlan {
  index: number;
  events: number;
  /** Users of this chunk (the generator's default ratio: events / 100, at least 1). */
  users: number;
  /** Global id of this chunk's first user, minus one. */
  userOffset: number;
  /** The generator seed of this chunk (distinct per chunk, derived from the run's seed). */
  seed: number;
}

export interface RunPlan {
  events: number;
  chunkEvents: number;
  seed: number;
  /** Users over all chunks (the id range is 1 … totalUsers). */
  totalUsers: number;
  /** Digits of a user id, so ids sort as numbers and have one width across chunks. */
  idWidth: number;
  chunks: ChunkPlan[];
}

/** Events per chunk when not given: a tenth of the run, at least 1M and at most 10M. */
export function defaultChunkEvents(events: number): number {
  return Math.min(10_000_000, Math.max(1_000_000, Math.ceil(events / 10)));
}

/** The seed of chunk `index`: distinct for every chunk of a run (the PRNG mixes seeds through splitmix). */
export function chunkSeed(seed: number, index: number): number {
  return (seed * 100_003 + index) | 0;
}

/**
 * Splits `events` into chunks of `chunkEvents` (the last one takes the remainder), with users in
 * the generator's default proportion (one per 100 events) unless `usersPerEvent` says otherwise.
 */
export function planRun(events: number, chunkEvents: number, seed: number, usersPerEvent = 0.01): RunPlan {
  if (!(Number.isInteger(events) && events > 0)) throw new RangeError(`events must be a positive integer, got ${events}`);
  if (!(Number.isInteger(chunkEvents) && chunkEvents > 0)) throw new RangeError(`chunk events must be a positive integer, got ${chunkEvents}`);
  if (!(usersPerEvent > 0 && usersPerEvent <= 1)) throw new RangeError(`users per event must be in (0, 1], got ${usersPerEvent}`);
  const chunks: ChunkPlan[] = [];
  let userOffset = 0;
  for (let index = 0, done = 0; done < events; index++) {
    const n = Math.min(chunkEvents, events - done);
    const users = Math.max(1, Math.floor(n * usersPerEvent));
    chunks.push({ index, events: n, users, userOffset, seed: chunkSeed(seed, index) });
    userOffset += users;
    done += n;
  }
  return { events, chunkEvents, seed, totalUsers: userOffset, idWidth: Math.max(6, String(userOffset).length), chunks };
}

/** The global user id of local user id `localId` (`u000042` → index 41) of `chunk`. */
export function globalUserId(localId: string, chunk: ChunkPlan, idWidth: number): string {
  const local = Number(localId.slice(1)) - 1;
  return `u${String(chunk.userOffset + local + 1).padStart(idWidth, '0')}`;
}

/** "1e9", "2e6", "2.5e7": a run's event count in file names. */
export function scaleLabel(events: number): string {
  return events.toExponential().replace('e+', 'e');
}

/** The chunks of a run that make up a subset of its first events, and how many events they hold. */
export interface SubsetPlan {
  /** Events asked for. */
  requested: number;
  /** Events of the chosen chunks (the subset's real size). */
  events: number;
  chunks: ChunkPlan[];
}

/**
 * The leading chunks of `plan` holding at most `events` events (the whole run when it is
 * smaller): a chunk is a unit (regenerating part of one would be other data, and cutting a
 * shuffled chunk would cut actors' sequences), so the subset is rounded down to whole chunks,
 * except that a subset smaller than the first chunk is the first chunk. Empty when `events` is 0.
 */
export function subsetChunks(plan: RunPlan, events: number): SubsetPlan {
  if (!(Number.isInteger(events) && events >= 0)) throw new RangeError(`subset events must be a non-negative integer, got ${events}`);
  const chunks: ChunkPlan[] = [];
  let total = 0;
  for (const chunk of plan.chunks) {
    if (events === 0 || (chunks.length > 0 && total + chunk.events > events)) break;
    chunks.push(chunk);
    total += chunk.events;
  }
  return { requested: events, events: total, chunks };
}
