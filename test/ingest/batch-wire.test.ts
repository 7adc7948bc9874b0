/**
 * The worker → reading-thread batch form: string columns coded against per-worker stream
 * dictionaries (sent as deltas, started over past a size limit) decode to exactly the values
 * that were encoded, batch after batch, and batches decoded before a restart keep their strings.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Value } from '../../engine/types.js';
import type { EventBatch } from '../../ingest/batch.js';
import { decodeBatch, DictMirrors, DictStreams, encodeBatch } from '../../ingest/batch-wire.js';

function batchOf(actors: (string | number)[], columns: [string, Value[]][]): EventBatch {
  return {
    count: actors.length,
    lines: Int32Array.from(actors, (_, i) => i + 1),
    timeMs: Float64Array.from(actors, (_, i) => i * 1000),
    actors,
    columns: new Map(columns),
    rejects: [],
    lineCount: actors.length,
  };
}

/** Through the wire form as a worker would send it (buffers transferred by structured clone). */
function roundTrip(batch: EventBatch, streams: DictStreams, mirrors: DictMirrors): EventBatch {
  const transfer: ArrayBuffer[] = [];
  const wire = encodeBatch(batch, transfer, streams);
  return decodeBatch(structuredClone(wire, { transfer }), mirrors);
}

const value = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '__proto__', '') },
  { weight: 1, arbitrary: fc.constant(null) },
);

describe('batch wire form with stream dictionaries', () => {
  it('decodes every batch to the values encoded, across dictionary restarts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), value, fc.option(fc.integer(), { nil: null })), { minLength: 1, maxLength: 30 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 6 }),
        (batches, maxEntries) => {
          const streams = new DictStreams(maxEntries);
          const mirrors = new DictMirrors();
          const sent = batches.map((rows) =>
            batchOf(
              rows.map((r) => r[0]),
              [
                ['s', rows.map((r) => r[1])],
                ['n', rows.map((r) => r[2])],
              ],
            ),
          );
          // Decode all first (as the pool does on arrival), read them later (as storage does).
          const got = sent.map((b) => roundTrip(b, streams, mirrors));
          sent.forEach((b, k) => {
            expect(got[k].actors).toEqual(b.actors);
            expect([...got[k].columns]).toEqual([...b.columns]);
            expect(got[k].typed?.actors.t).toBe('s');
          });
        },
      ),
      { seed: Number(process.env.SEED ?? Date.now()) % 2 ** 31, verbose: 1 },
    );
  });

  it('sends each string once per dictionary: a repeat costs only its code', () => {
    const streams = new DictStreams();
    const t1: ArrayBuffer[] = [];
    const first = encodeBatch(batchOf(['u1', 'u2'], [['e', ['view', 'click']]]), t1, streams);
    const t2: ArrayBuffer[] = [];
    const second = encodeBatch(batchOf(['u2', 'u3'], [['e', ['click', 'buy']]]), t2, streams);
    expect(first.columns[0][1]).toMatchObject({ t: 's', dict: ['view', 'click'], base: 0 });
    expect(second.columns[0][1]).toMatchObject({ t: 's', dict: ['buy'], base: 2 });
    expect(second.actors).toMatchObject({ t: 's', dict: ['u3'], base: 2 });
  });

  it('refuses a delta that does not continue the mirror', () => {
    const streams = new DictStreams();
    encodeBatch(batchOf(['u1'], []), [], streams); // never delivered
    const lost = encodeBatch(batchOf(['u2'], []), [], streams);
    expect(() => decodeBatch(lost, new DictMirrors())).toThrow(/out of step/);
  });
});
