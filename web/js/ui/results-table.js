// @ts-check
/**
 * A sortable table: click a header to sort by it (again to flip). Cells are text; numbers are
 * right-aligned and formatted in their column's unit, with the exact value in the cell's title.
 */
import { h } from '../dom.js';
import { sortRows } from '../series.js';

/**
 * @typedef {{ key: string, label: string, numeric?: boolean, format?: (v: any, row: any[]) => string }} TableColumn
 */

/**
 * @param {{ columns: TableColumn[], rows: any[][], sort?: { col: number, desc: boolean }, testId?: string, maxRows?: number, first?: (row: any[]) => boolean, last?: (row: any[]) => boolean }} opts
 *   first: rows that stay at the top whatever the sort (a total over the groups); last: rows that
 *   stay at the bottom (the "Other" group)
 */
export function resultsTable(opts) {
  const wrap = h('div', { class: 'table-wrap', 'data-testid': opts.testId ?? 'results-table' });
  let sort = opts.sort ?? null;
  const maxRows = opts.maxRows ?? 500;
  const render = () => {
    const sorted = sort ? sortRows(opts.rows, sort.col, sort.desc) : opts.rows;
    const top = opts.first ?? (() => false);
    const bottom = opts.last ?? (() => false);
    const rows = [...sorted.filter(top), ...sorted.filter((r) => !top(r) && !bottom(r)), ...sorted.filter((r) => !top(r) && bottom(r))];
    const thead = h('thead', {}, h('tr', {}, opts.columns.map((c, i) => {
      const active = sort?.col === i;
      return h('th', {
        class: c.numeric ? 'num' : '',
        'aria-sort': active ? (sort?.desc ? 'descending' : 'ascending') : 'none',
        'data-key': c.key,
      }, h('button', {
        type: 'button',
        class: 'sort-btn',
        title: `Sort by ${c.label}`,
        onclick: () => {
          sort = { col: i, desc: active ? !sort?.desc : !!c.numeric };
          render();
        },
      }, c.label, active ? (sort?.desc ? ' ▼' : ' ▲') : ''));
    })));
    const tbody = h('tbody', {}, rows.slice(0, maxRows).map((row) => h('tr', {}, opts.columns.map((c, i) => {
      const v = row[i];
      const text = c.format ? c.format(v, row) : v === null || v === undefined ? '—' : String(v);
      return h('td', { class: c.numeric ? 'num' : '', title: typeof v === 'number' ? String(v) : undefined, 'data-key': c.key }, text);
    }))));
    const table = h('table', { class: 'results' }, thead, tbody);
    wrap.replaceChildren(table);
    if (rows.length > maxRows) wrap.append(h('div', { class: 'muted small' }, `Showing the first ${maxRows} of ${rows.length} rows.`));
  };
  render();
  return wrap;
}
