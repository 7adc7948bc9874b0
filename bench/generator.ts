/**
 * Seeded, deterministic generator of realistic product events, for benchmarks, tests and the demo.
 *
 * Model, per user (each user has its own PRNG stream derived from (seed, user index), so a user's
 * events do not depend on any other user's):
 * - activity: an i.i.d. truncated-Pareto weight; the requested event count is split over users in
 *   proportion (exactly: the rounding remainder goes to the first users), giving a few heavy users
 *   and a long tail;
 * - attributes: country (30, skewed), device and os (correlated with country), plan, and an app
 *   version that changes over the window as releases roll out (web users report "web");
 * - time: the user's events are cut into sessions (geometric-ish lengths); events inside a session
 *   are seconds to minutes apart (log-normal), sessions are separated by the remaining idle time
 *   spread at random (hours to days for typical users);
 * - flows: each session plays journeys page_view → search → view_item → add_to_cart → checkout →
 *   purchase with drop-off at each step (so funnel step counts are monotone by construction), with
 *   client-side noise events, logins, signups, shares and server errors that end the journey.
 *
 * Output is ordered by user, then time. `writeEvents` writes NDJSON or CSV with buffered
 * synchronous writes and can shuffle globally with bounded memory: lines are dealt at random into
 * temporary bucket files of ~`shuffleWindow` lines, each then shuffled in memory (a uniform
 * permutation: Rao–Sandelius). Same options → byte-identical output.
 */
export { Rng } from './generator/rng.js';
export { EVENT_NAMES, FUNNEL, type EventName } from './generator/vocabulary.js';
export type { GeneratedEvent, Props } from './generator/user-model.js';
export { DEFAULT_END_MS, generateEvents, type GenerateOptions } from './generator/events.js';
export { CSV_COLUMNS, eventToCsv, eventToJson, writeEvents, writeNdjson, type WriteOptions, type WriteResult } from './generator/write.js';
