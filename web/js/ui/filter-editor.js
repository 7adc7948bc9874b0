// @ts-check
/**
 * Filter rows built from pickers: column, operator (by the column's type), and a value box that
 * suggests the column's top values (fetched on first focus through `suggest`). A list of rows is
 * ANDed (query-build.js toFilter). Used for `where`, funnel steps, retention and paths starts.
 */
import { h, select } from '../dom.js';
import { filterValueText, parseFilterValue } from '../query-build.js';

/** @typedef {import('../state.js').Condition} Condition */
/** @typedef {{ name: string, type: string }} Column */

const OPS = /** @type {Record<string, [string, string][]>} */ ({
  string: [['=', 'is'], ['!=', 'is not'], ['in', 'is one of'], ['!in', 'is none of'], ['contains', 'contains'], ['!contains', 'does not contain'], ['startsWith', 'starts with'], ['exists', 'is set'], ['!exists', 'is not set']],
  number: [['=', '='], ['!=', '≠'], ['<', '<'], ['<=', '≤'], ['>', '>'], ['>=', '≥'], ['in', 'is one of'], ['!in', 'is none of'], ['exists', 'is set'], ['!exists', 'is not set']],
  boolean: [['=', 'is'], ['!=', 'is not'], ['exists', 'is set'], ['!exists', 'is not set']],
});

let datalistSeq = 0;

/**
 * @param {{
 *   conditions: Condition[],
 *   columns: Column[],
 *   onChange: (next: Condition[]) => void,
 *   suggest: (column: string) => Promise<string[]>,
 *   addLabel?: string,
 *   testId?: string,
 *   minRows?: number,
 * }} opts  minRows: rows that cannot be removed (a funnel step keeps its first condition)
 */
export function filterEditor(opts) {
  const { conditions, columns, onChange, suggest } = opts;
  const wrap = h('div', { class: 'filters', 'data-testid': opts.testId });
  const typeOf = (/** @type {string} */ name) => columns.find((c) => c.name === name)?.type ?? 'string';
  // The rows as last changed here: a value committed as focus left its box, and then a click
  // on this editor before the page redraws (main.js commit), build on each other.
  let current = conditions;
  /** @param {number} i @param {Condition | null} next */
  const replace = (i, next) => {
    const copy = current.slice();
    if (next === null) copy.splice(i, 1);
    else copy[i] = next;
    current = copy;
    onChange(copy);
  };
  conditions.forEach((cond, i) => {
    const [column, op, value] = cond;
    const type = typeOf(column);
    const ops = OPS[type] ?? OPS.string;
    const colSelect = select(
      [['', 'column…'], ...columns.map((c) => /** @type {[string, string]} */ ([c.name, c.name]))],
      column,
      (name) => replace(i, [name, (OPS[typeOf(name)] ?? OPS.string)[0][0], '']),
      { class: 'f-col', 'aria-label': 'filter column' },
    );
    const opSelect = select(ops, op, (nextOp) => replace(i, [column, nextOp, carryValue(value, nextOp)]), {
      class: 'f-op',
      'aria-label': 'operator',
    });
    const row = h('div', { class: 'filter-row' }, colSelect, opSelect);
    if (op !== 'exists' && op !== '!exists') {
      const listId = `dl-${++datalistSeq}`;
      const datalist = h('datalist', { id: listId });
      const input = h('input', {
        class: 'f-val',
        type: 'text',
        list: listId,
        value: filterValueText(value),
        placeholder: op === 'in' || op === '!in' ? 'a, b, c' : 'value',
        'aria-label': 'value',
        spellcheck: false,
      });
      let loaded = false;
      input.addEventListener('focus', () => {
        if (loaded || !column) return;
        loaded = true;
        suggest(column).then(
          (values) => {
            for (const v of values) datalist.appendChild(h('option', { value: v }));
          },
          () => { loaded = false; },
        );
      });
      let committed = false;
      const commit = () => {
        const next = parseFilterValue(input.value, op, type);
        if (committed || JSON.stringify(next) === JSON.stringify(value ?? '')) return;
        committed = true;
        replace(i, [column, op, next]);
      };
      input.addEventListener('change', commit);
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') commit();
      });
      row.append(input, datalist);
    }
    if (i >= (opts.minRows ?? 0)) {
      row.append(h('button', { class: 'icon-btn', type: 'button', title: 'Remove this condition', 'aria-label': 'remove condition', onclick: () => replace(i, null) }, '×'));
    }
    wrap.append(row);
  });
  wrap.append(
    h('button', { class: 'link-btn', type: 'button', onclick: () => onChange([...current, ['', '=', '']]) }, opts.addLabel ?? '+ Filter'),
  );
  return wrap;
}

/**
 * The value a condition keeps when its operator changes: a list for "is one of" / "is none of"
 * (the API takes nothing else there), one value for the others (the list's first), none for
 * "is set" / "is not set".
 * @param {unknown} value
 * @param {string} op
 */
function carryValue(value, op) {
  if (op === 'exists' || op === '!exists') return undefined;
  const list = Array.isArray(value) ? value : value === undefined || value === null || value === '' ? [] : [value];
  return op === 'in' || op === '!in' ? list : list[0] ?? '';
}
