/**
 * The ingest buffer pool hands out zero-filled buffers of at least the asked size, reuses
 * released ones (the smallest that fits), and keeps no more than its limits.
 */
import { describe, expect, it, vi } from 'vitest';
import { BufferPool } from '../../engine/storage/buffer-pool.js';

describe('BufferPool', () => {
  it('reuses a released buffer, zero-filled up to the asked size', () => {
    const pool = new BufferPool();
    const a = pool.acquire(64);
    new Uint8Array(a).fill(7);
    pool.release(a);
    const b = pool.acquire(48);
    expect(b).toBe(a);
    expect(Array.from(new Uint8Array(b, 0, 48)).every((x) => x === 0)).toBe(true);
    expect(pool.idleBytes).toBe(0);
  });

  it('picks the smallest idle buffer that fits, and a new one when none does', () => {
    const pool = new BufferPool();
    const big = new ArrayBuffer(1000);
    const small = new ArrayBuffer(100);
    pool.release(big);
    pool.release(small);
    expect(pool.acquire(80)).toBe(small);
    const fresh = pool.acquire(2000);
    expect(fresh).not.toBe(big);
    expect(fresh.byteLength).toBe(2000);
    expect(pool.acquire(500)).toBe(big);
  });

  it('keeps at most its buffer count and idle bytes', () => {
    const pool = new BufferPool(2, 250);
    pool.release(new ArrayBuffer(100));
    pool.release(new ArrayBuffer(100));
    pool.release(new ArrayBuffer(10)); // a third buffer: over the count
    expect(pool.idleBytes).toBe(200);
    const other = new BufferPool(4, 250);
    other.release(new ArrayBuffer(200));
    other.release(new ArrayBuffer(100)); // over the bytes
    expect(other.idleBytes).toBe(200);
  });

  it('can hand out a buffer without zero-filling it, and rounds new ones up', () => {
    const pool = new BufferPool();
    const a = pool.acquire(100, false, (b) => b * 2);
    expect(a.byteLength).toBe(200);
    new Uint8Array(a).fill(9);
    pool.release(a);
    const b = pool.acquire(150, false);
    expect(b).toBe(a);
    expect(new Uint8Array(b)[0]).toBe(9);
  });

  it('makes its buffers with `make` (SharedArrayBuffers for the tails) and lends a big idle one only to a request near its size', () => {
    const pool = new BufferPool<SharedArrayBuffer>(8, 10_000, 10_000, (bytes) => new SharedArrayBuffer(bytes), 1.5);
    const a = pool.acquire(1000);
    expect(a).toBeInstanceOf(SharedArrayBuffer);
    pool.release(a);
    const small = pool.acquire(600); // 1000 > 1.5 × 600: a new one, the idle buffer stays
    expect(small).not.toBe(a);
    expect(small.byteLength).toBe(600);
    expect(pool.acquire(700)).toBe(a);
  });

  it('drops its idle buffers once unused for its idle timeout', () => {
    vi.useFakeTimers();
    try {
      const pool = new BufferPool(8, 1000, 5_000);
      pool.release(new ArrayBuffer(100));
      vi.advanceTimersByTime(3_000);
      pool.release(pool.acquire(50)); // used again: the timeout starts over
      vi.advanceTimersByTime(3_000);
      expect(pool.idleBytes).toBe(100);
      vi.advanceTimersByTime(2_500);
      expect(pool.idleBytes).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
