/**
 * Random NDJSON event lines for the parser tests, written by hand (so keys may repeat, numbers
 * keep their spelling, whitespace varies), with awkward keys and some invalid lines:
 * `eventLine` (anything, nested, arrays, mangled), `plainLine` (what the fast path reads),
 * `layoutLine` (few keys, shared layout prefixes), `typicalLine` (a repeated flat shape).
 */
import fc from 'fast-check';

const ws = fc.constantFrom('', '', '', ' ', '\t', '  ', '\r');
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'toString', 'a', 'b', 'a.b', 'props', 'user_id', 'time', '1', '01', '-1', 'é', '日本', 'k"q', 'k\\b', '', ' ', 'x\u0001'),
  fc.string({ maxLength: 5 }),
  fc.string({ unit: 'grapheme', maxLength: 3 }),
);
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? '-0' : String(n))),
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
  fc.constantFrom('-0', '0', '1e21', '1E+2', '0.1', '-0.0', '123456789012345678', '1.5e-7', '9007199254740993', '0.30000000000000004', '1e400', '-1e400', '1e-400', '0.000001', '123.456e5', '1.7976931348623157e308'),
  fc.constantFrom('01', '1.', '-', '+1', '.5', '1e', '--1', 'NaN'), // invalid: JSON.parse must report them
);
const stringText = fc.oneof(
  fc.string().map((s) => JSON.stringify(s)),
  fc.string({ unit: 'grapheme' }).map((s) => JSON.stringify(s)),
  fc.constantFrom('"plain"', '"US"', '"page_view"', '"a\\"b"', '"\\u0041"', '"\\/"', '"\\ud83d\\ude00"', '"\\ud800"', '"tab\there"', '"😀 ü"', '""', '"x'),
);
const timeText = fc.oneof(
  fc.date({ min: new Date(0), max: new Date(Date.UTC(2100, 0, 1)), noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
  fc.constantFrom('"2026-10-01"', '"2026-10-01T12:00:00+02:00"', '1790000000', '1790000000123', '1790000000123456', '"1790000000"', '"yesterday"', 'null', 'true', '1e400', '{"a":1}'),
);
const actorText = fc.oneof(fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)), fc.integer().map(String), fc.constantFrom('"u1"', '"u2"', '42', 'null', 'true', '[1]', '{"id":1}', '1.5'));

const RAW_TAB = '<raw tab>';

type Tree = { kind: 'raw'; text: string } | { kind: 'obj'; entries: [string, Tree][] } | { kind: 'arr'; items: Tree[] };

const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(numberText, stringText, fc.constantFrom('true', 'false', 'null')).map((text): Tree => ({ kind: 'raw', text })),
    fc.array(fc.tuple(key, tie('tree')), { maxLength: 4 }).map((entries): Tree => ({ kind: 'obj', entries })),
    fc.array(tie('tree'), { maxLength: 3 }).map((items): Tree => ({ kind: 'arr', items })),
  ),
})).tree;

function write(t: Tree, w: string[], k: { i: number }): string {
  const sp = (): string => w[k.i++ % w.length];
  if (t.kind === 'raw') return t.text;
  if (t.kind === 'arr') return `[${t.items.map((x) => sp() + write(x, w, k) + sp()).join(',')}]`;
  // The key RAW_TAB is written with a raw tab inside its quotes, which JSON forbids.
  const keyText = (name: string): string => (name === RAW_TAB ? '"raw\ttab"' : JSON.stringify(name));
  return `{${t.entries.map(([name, v]) => `${sp()}${keyText(name)}${sp()}:${sp()}${write(v, w, k)}${sp()}`).join(',')}}`;
}

/** One event line: random entries with user_id and time placed at random positions. */
export const eventLine = fc
  .record({
    entries: fc.array(fc.tuple(key, tree), { maxLength: 6 }),
    actor: fc.option(actorText, { freq: 8 }),
    time: fc.option(timeText, { freq: 8 }),
    at: fc.tuple(fc.nat(), fc.nat()),
    spaces: fc.array(ws, { minLength: 1, maxLength: 8 }),
    mangle: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'truncate', 'array', 'empty'),
  })
  .map(({ entries, actor, time, at, spaces, mangle }) => {
    const all: [string, Tree][] = [...entries];
    if (actor !== null) all.splice(at[0] % (all.length + 1), 0, ['user_id', { kind: 'raw', text: actor }]);
    if (time !== null) all.splice(at[1] % (all.length + 1), 0, ['time', { kind: 'raw', text: time }]);
    const text = write({ kind: 'obj', entries: all }, spaces, { i: 0 });
    if (mangle === 'truncate') return text.slice(0, Math.max(1, text.length >> 1));
    if (mangle === 'array') return `[${text}]`;
    if (mangle === 'empty') return ' ';
    return text;
  });

/** Lines the fast path can read (flat or one level of nesting, plain strings) with awkward keys. */
const plainKey = fc.constantFrom('a', 'b', '1', '2', '10', '01', '-1', '__proto__', 'constructor', 'a.b', 'user_id', 'time', 'é', '', RAW_TAB);
const plainScalar = fc.oneof(
  numberText.filter((t) => !Number.isNaN(Number(t)) && /^-?\d/.test(t) && !/^-?0\d/.test(t) && !t.endsWith('.')),
  fc.constantFrom('"x"', '"y"', '"日本"', '""', 'true', 'false', 'null', '"2026-10-01"', '1790000000'),
);
const plainTree: fc.Arbitrary<Tree> = fc.oneof(
  plainScalar.map((text): Tree => ({ kind: 'raw', text })),
  fc.array(fc.tuple(plainKey, plainScalar.map((text): Tree => ({ kind: 'raw', text }))), { maxLength: 3 }).map((entries): Tree => ({ kind: 'obj', entries })),
);
export const plainLine = fc
  .record({ entries: fc.array(fc.tuple(plainKey, plainTree), { maxLength: 5 }), u: fc.integer({ min: 0, max: 3 }), spaces: fc.array(ws, { minLength: 1, maxLength: 4 }) })
  .map(({ entries, u, spaces }) => write({ kind: 'obj', entries: [['user_id', { kind: 'raw', text: `"u${u}"` }], ['time', { kind: 'raw', text: '1790000000' }], ...entries] }, spaces, { i: 0 }));

/** Few keys, so consecutive lines share layout prefixes but differ in nesting. */
const fewKeys = fc.constantFrom('a', 'b', 'c');
export const layoutLine = fc
  .array(fc.tuple(fewKeys, fc.oneof(plainScalar.map((text): Tree => ({ kind: 'raw', text })), fc.array(fc.tuple(fewKeys, fc.constant<Tree>({ kind: 'raw', text: '1' })), { maxLength: 2 }).map((entries): Tree => ({ kind: 'obj', entries })))), { maxLength: 3 })
  .map((entries) => write({ kind: 'obj', entries: [['user_id', { kind: 'raw', text: '"u"' }], ['time', { kind: 'raw', text: '1790000000' }], ...entries] }, [''], { i: 0 }));

/** A typical flat event with a repeated layout, so the layout cache is exercised. */
export const typicalLine = fc
  .record({ u: fc.integer({ min: 0, max: 50 }), t: fc.integer({ min: 1.7e12, max: 1.8e12 }), e: fc.constantFrom('view', 'buy', 'sign_up'), n: numberText, plan: fc.constantFrom('"pro"', '"free"', 'null') })
  .map(({ u, t, e, n, plan }) => `{"user_id":"u${u}","time":${t},"event":"${e}","n":${n},"props":{"plan":${plan}}}`);
