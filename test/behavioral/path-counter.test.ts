/**
 * The path trie (engine/query/behavioral/path-counter.ts) against plain counting by tuple
 * keys, on random sessions large enough that the trie outgrows its first arrays, its direct
 * child table and its hash table several times (thousands of nodes, codes on both sides of
 * the direct table's limit), with paths ending early and code 0 (null) inside and past the
 * end. A failure prints the seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PathTrie, ROOT } from '../../engine/query/behavioral/path-counter.js';
import type { PathCounts } from '../../engine/query/behavioral/partial.js';
import { rng } from '../helpers/memory-snapshot.js';

/** Counts by tuple key, as "c0,c1,…" → count. */
function asMap(p: PathCounts, width: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let g = 0; g < p.n; g++) {
    const key = Array.from(p.codes.subarray(g * width, (g + 1) * width)).join(',');
    m.set(key, (m.get(key) ?? 0) + p.counts[g]);
  }
  return m;
}

function checkSeed(seed: number): void {
  const rand = rng(seed);
  const depth = 1 + Math.floor(rand() * 5);
  // Few codes: long shared prefixes; many (past 64): the hash table path.
  const codes = rand() < 0.5 ? 1 + Math.floor(rand() * 12) : 40 + Math.floor(rand() * 200);
  const trie = new PathTrie(depth, 1_000_000);
  const paths = new Map<string, number>();
  const edges = new Map<string, number>();
  const sessions = 2000 + Math.floor(rand() * 4000);
  for (let i = 0; i < sessions; i++) {
    const len = 1 + Math.floor(rand() * (depth + 1)); // nodes 0 … len−1
    const path: number[] = [];
    for (let k = 0; k < len; k++) path.push(rand() < 0.05 ? 0 : Math.floor(rand() * codes));
    let node = trie.step(ROOT, path[0]);
    for (let k = 1; k < len; k++) {
      node = trie.step(node, path[k]);
      const e = `${k},${path[k - 1]},${path[k]}`;
      edges.set(e, (edges.get(e) ?? 0) + 1);
    }
    trie.end(node);
    const padded = [...path, ...Array.from({ length: depth + 1 - len }, () => 0)].join(',');
    paths.set(padded, (paths.get(padded) ?? 0) + 1);
  }
  const got = trie.result();
  expect(asMap(got.paths, depth + 1), `seed ${seed}: paths`).toEqual(paths);
  expect(asMap(got.edges, 3), `seed ${seed}: edges`).toEqual(edges);
  expect(got.paths.n, `seed ${seed}: each path once`).toBe(paths.size);
  expect(got.edges.n, `seed ${seed}: each edge once`).toBe(edges.size);
}

describe('path trie', () => {
  it('counts paths and edges like plain counting by tuple', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => checkSeed(seed)), { numRuns: 40 });
  });

  it('refuses more nodes than (depth + 1) · maxGroups', () => {
    const trie = new PathTrie(1, 3);
    for (let c = 1; c <= 6; c++) trie.step(ROOT, c);
    expect(() => trie.step(ROOT, 7)).toThrow(expect.objectContaining({ code: 'TOO_MANY_GROUPS' }));
    expect(trie.step(ROOT, 3)).toBe(3); // a known node is still found
  });
});
