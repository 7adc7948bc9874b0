/**
 * Flattening of nested events (PRODUCT.md, "Concepts"): nested objects become dotted column
 * names (`{"props":{"plan":"pro"}}` → `props.plan`), arrays become their JSON text, an empty
 * nested object adds no column. Keys are read with Object.keys (or from a Map, for MessagePack)
 * and written to Maps, so `__proto__`, `constructor` or `hasOwnProperty` are ordinary names and
 * nothing is ever assigned through an input-controlled key.
 *
 * The walkers take a sink, so the same code feeds a BatchBuilder (which routes the actor and
 * time columns, whatever their value) and the public `flatten`.
 */
import type { Value } from '../engine/types.js';
import type { BatchBuilder } from './batch-builder.js';

/** Receives flattened fields; `capture` takes the raw value of a key it claims (actor, time). */
interface Sink {
  capture(key: string, raw: unknown): boolean;
  put(key: string, value: Value): void;
}

/** Flattens a parsed event (a plain object or a Map) into dotted column names. */
export function flatten(event: object): Map<string, Value> {
  const out = new Map<string, Value>();
  const sink: Sink = {
    capture: () => false,
    put: (key, value) => void out.set(key, value),
  };
  if (event instanceof Map) walkMap(event, null, sink);
  else walkObject(event as Record<string, unknown>, null, sink);
  return out;
}

/** A sink writing into the open row of a builder. */
export function builderSink(b: BatchBuilder): Sink {
  const actor = b.actorColumn;
  const time = b.timeColumn;
  return {
    capture(key, raw) {
      if (key === actor) b.setActor(raw);
      else if (key === time) b.setTime(raw);
      else return false;
      return true;
    },
    put: (key, value) => b.put(key, value),
  };
}

/** Walks an object from JSON.parse (or any plain object). */
export function walkObject(obj: Record<string, unknown>, prefix: string | null, sink: Sink): void {
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const key = prefix === null ? keys[i] : `${prefix}.${keys[i]}`;
    const v = obj[keys[i]];
    if (sink.capture(key, v)) continue;
    if (v !== null && typeof v === 'object') {
      if (Array.isArray(v)) sink.put(key, arrayValue(v, JSON.stringify(v)));
      else if (v instanceof Map) walkMap(v, key, sink);
      else if (isPlain(v)) walkObject(v as Record<string, unknown>, key, sink);
      else sink.put(key, leafValue(v));
    } else {
      sink.put(key, leafValue(v));
    }
  }
}

/** Walks a Map from the MessagePack decoder; non-string keys are named by String(key). */
export function walkMap(map: Map<unknown, unknown>, prefix: string | null, sink: Sink): void {
  for (const [k, v] of map) {
    const name = typeof k === 'string' ? k : String(k);
    const key = prefix === null ? name : `${prefix}.${name}`;
    if (sink.capture(key, v)) continue;
    if (v instanceof Map) walkMap(v, key, sink);
    else if (Array.isArray(v)) sink.put(key, arrayValue(v, jsonText(v)));
    else if (v !== null && typeof v === 'object' && isPlain(v)) walkObject(v as Record<string, unknown>, key, sink);
    else sink.put(key, leafValue(v));
  }
}

/**
 * An array's column value: its JSON text, or Infinity (which rejects the event as "number out
 * of range", as a scalar 1e400 does) when it holds a number JSON cannot write: JSON.stringify
 * would write null in its place, storing another array without a word. Only a text with a
 * null in it is searched, so most arrays cost nothing more.
 */
function arrayValue(v: unknown[], text: string): Value {
  return text.includes('null') && holdsNonFinite(v) ? Infinity : text;
}

function holdsNonFinite(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v === null || typeof v !== 'object') return false;
  const items = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : isPlain(v) ? Object.values(v) : [];
  for (const x of items) if (holdsNonFinite(x)) return true;
  return false;
}

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A non-container value as a column value. */
function leafValue(v: unknown): Value {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
    case 'bigint':
      return Number(v);
    case 'undefined':
      return null;
    default:
      if (v === null) return null;
      if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.toISOString() : null;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      return String(v);
  }
}

/** JSON text of a decoded value that may hold Maps, byte arrays or bigints. */
export function jsonText(v: unknown): string {
  return (
    JSON.stringify(v, function (this: Record<string, unknown>, key: string, x: unknown) {
      // The holder's own value: a Buffer has become {type, data} through its toJSON already.
      const own = this[key];
      if (own instanceof Uint8Array) return Buffer.from(own.buffer, own.byteOffset, own.byteLength).toString('base64');
      if (x instanceof Map) return Object.fromEntries([...x].map(([k, y]) => [typeof k === 'string' ? k : String(k), y]));
      if (typeof x === 'bigint') return Number(x);
      return x;
    }) ?? 'null'
  );
}
