// @ts-check
/**
 * The contract between the page (main.js) and each view module: a view builds its controls from
 * the state, says which requests it needs, and renders their results. Types only.
 */

/**
 * @typedef {{
 *   state: import('../state.js').ViewState,
 *   table: { name: string, rowCount: number, minTimeMs: number | null, maxTimeMs: number | null, actorColumn: string, timeColumn: string } | null,
 *   columns: { name: string, type: string }[],
 *   range: { fromMs: number | null, toMs: number | null, notice: string | null },
 *   rangeText: string,
 *   actorWord: string,
 *   update: (fn: (draft: any) => void) => void,
 *   suggest: (column: string) => Promise<string[]>,
 * }} ViewContext
 */

/**
 * @typedef {{
 *   id: string,
 *   title: string,
 *   builder: (ctx: ViewContext) => HTMLElement,
 *   requests: (ctx: ViewContext) => import('../query-build.js').Request[],
 *   results: (ctx: ViewContext, requests: import('../query-build.js').Request[], results: any[]) => HTMLElement,
 *   incomplete?: (ctx: ViewContext) => string,
 * }} View
 */

export {};
