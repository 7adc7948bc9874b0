// @ts-check
/**
 * The paths view: which values of a column (usually the event name) follow (or precede) a
 * starting event within a session; drawn as a flow and listed as the top paths.
 */
import { parsePaths, pathStarts, stepName } from '../behavioral.js';
import { h, select } from '../dom.js';
import { formatNumber } from '../format.js';
import { PATH_START_PAIRS, pathsRequests, toFilter } from '../query-build.js';
import { groupValueLabel } from '../series.js';
import { field } from '../ui/controls.js';
import { filterEditor } from '../ui/filter-editor.js';
import { flowDiagram } from '../ui/flow.js';
import { resultsTable } from '../ui/results-table.js';
import { emptyBox } from '../ui/status.js';

/** @type {import('./view-types.js').View} */
export const pathsView = {
  id: 'paths',
  title: 'Paths',
  builder(ctx) {
    const s = ctx.state.paths;
    const set = ctx.update;
    const strings = ctx.columns.filter((c) => c.type === 'string').map((c) => c.name);
    const before = s.direction === 'before';
    return h('div', { class: 'builder' },
      field('Steps are values of', select([['', 'column…'], ...strings.map((n) => /** @type {[string, string]} */ ([n, n]))], s.node, (v) => set((d) => { d.node = v; }), { 'aria-label': 'path node column' })),
      field('Starting from', filterEditor({ conditions: s.start, columns: ctx.columns, suggest: ctx.suggest, testId: 'paths-start', addLabel: s.start.length > 0 ? '+ and…' : before ? '+ The event to look back from' : '+ A specific event (else: session start)', onChange: (c) => set((d) => { d.start = c; }) })),
      field('Show what happened', select([['after', 'After it'], ['before', 'Before it']], s.direction, (v) => set((d) => { d.direction = v; }), { 'aria-label': 'direction' })),
      field('Steps', select(['1', '2', '3', '4', '5', '6', '8', '10'], String(s.depth), (v) => set((d) => { d.depth = Number(v); }), { 'aria-label': 'depth' })),
      field('Session ends after a gap of', select(['5m', '10m', '15m', '30m', '1h', '2h'], s.gap, (v) => set((d) => { d.gap = v; }), { 'aria-label': 'session gap' })),
      field('Top paths listed', select(['10', '20', '50', '100'], String(s.limit), (v) => set((d) => { d.limit = Number(v); }), { 'aria-label': 'paths limit' })),
      field('Only events where', filterEditor({ conditions: s.where, columns: ctx.columns, suggest: ctx.suggest, testId: 'where', onChange: (w) => set((d) => { d.where = w; }) })),
    );
  },
  requests(ctx) {
    return pathsRequests(ctx.state, ctx.range);
  },
  incomplete(ctx) {
    const s = ctx.state.paths;
    if (!s.node) return 'Pick the column whose values name the steps (for example “event”).';
    // Without a start a path begins at the session's first event, and nothing comes before it.
    if (s.direction === 'before' && toFilter(s.start) === null) return 'Pick the event to look back from under “Starting from”: before the start of a session there is nothing to show.';
    return '';
  },
  results(ctx, _requests, results) {
    const s = ctx.state.paths;
    const { paths, edges } = parsePaths(results[0]);
    if (paths.length === 0 && edges.length === 0) {
      return emptyBox('No paths', `No sessions in ${ctx.rangeText} ${s.start.length > 0 ? 'contain the starting event' : 'have events'}. Try a longer range or another start.`);
    }
    // Paths read in time order: those before the start end with it.
    const rows = paths.map((p) => [(s.direction === 'before' ? [...p.nodes].reverse() : p.nodes).map(groupValueLabel).join(' → '), p.nodes.length, p.sessions]);
    return h('div', { class: 'results-body' },
      h('div', { class: 'chart-title' }, `What sessions did ${s.direction === 'before' ? 'before' : 'after'} ${toFilter(s.start) !== null ? `“${stepName(s.start, 0)}”` : 'their session started'}: ${s.depth} steps of ${s.node}`),
      edges.length > 0 ? flowDiagram({ edges, direction: s.direction, starts: results[1] ? pathStarts(results[1], PATH_START_PAIRS) : undefined }) : null,
      h('div', { class: 'chart-title table-title' }, `Top ${formatNumber(paths.length)} paths`),
      h('div', { class: 'muted small table-note' }, `Paths of fewer than ${s.depth + 1} events ${s.direction === 'before' ? 'start where the session started' : 'stop where the session ended'}.`),
      resultsTable({
        testId: 'paths-table',
        columns: [
          { key: 'path', label: 'Path' },
          { key: 'length', label: 'Events in path', numeric: true, format: formatNumber },
          { key: 'sessions', label: 'Sessions', numeric: true, format: formatNumber },
        ],
        rows,
      }));
  },
};
