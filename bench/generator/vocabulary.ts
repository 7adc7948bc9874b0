/**
 * The generator's world: countries (with latency and platform mix), plans, app releases, paths,
 * event names and the purchase funnel, per-path latency medians and status codes per event.
 */
import { Weighted, type Rng } from './rng.js';

export const DAY_MS = 86_400_000;

export interface CountryInfo {
  code: string;
  weight: number;
  /** Latency multiplier (distance to the servers, networks). */
  slow: number;
  mobileShare: number;
  iosShare: number;
  currency: string;
}

// prettier-ignore
const COUNTRIES: CountryInfo[] = ([
  ['US', 24, 1.0, 0.55, 0.55, 'USD'], ['IN', 11, 1.9, 0.8, 0.05, 'INR'], ['BR', 7, 1.6, 0.7, 0.15, 'BRL'],
  ['GB', 6, 1.1, 0.55, 0.5, 'GBP'], ['DE', 5, 1.1, 0.5, 0.35, 'EUR'], ['FR', 4, 1.1, 0.5, 0.35, 'EUR'],
  ['JP', 4, 1.3, 0.65, 0.65, 'JPY'], ['CA', 3.5, 1.05, 0.55, 0.5, 'CAD'], ['MX', 3, 1.4, 0.7, 0.2, 'MXN'],
  ['ID', 3, 2.0, 0.85, 0.08, 'IDR'], ['ES', 2.5, 1.2, 0.6, 0.25, 'EUR'], ['IT', 2.5, 1.2, 0.6, 0.3, 'EUR'],
  ['KR', 2, 1.3, 0.7, 0.3, 'KRW'], ['AU', 2, 1.5, 0.55, 0.5, 'AUD'], ['NL', 1.5, 1.1, 0.5, 0.4, 'EUR'],
  ['TR', 1.5, 1.5, 0.7, 0.15, 'TRY'], ['PL', 1.3, 1.25, 0.6, 0.2, 'PLN'], ['PH', 1.3, 2.0, 0.8, 0.12, 'PHP'],
  ['NG', 1.2, 2.5, 0.85, 0.08, 'NGN'], ['VN', 1.2, 1.9, 0.8, 0.15, 'VND'], ['AR', 1, 1.7, 0.65, 0.12, 'ARS'],
  ['SE', 1, 1.15, 0.55, 0.45, 'SEK'], ['CO', 1, 1.6, 0.7, 0.15, 'COP'], ['EG', 0.9, 2.1, 0.8, 0.1, 'EGP'],
  ['ZA', 0.9, 1.9, 0.7, 0.2, 'ZAR'], ['TH', 0.9, 1.7, 0.75, 0.25, 'THB'], ['PK', 0.8, 2.2, 0.85, 0.05, 'PKR'],
  ['CH', 0.7, 1.1, 0.5, 0.5, 'CHF'], ['BE', 0.7, 1.1, 0.5, 0.35, 'EUR'], ['KE', 0.5, 2.4, 0.85, 0.06, 'KES'],
] as const).map(([code, weight, slow, mobileShare, iosShare, currency]) => ({ code, weight, slow, mobileShare, iosShare, currency }));
export const COUNTRY = new Weighted(COUNTRIES, COUNTRIES.map((c) => c.weight));

export const PLANS = new Weighted(['free', 'plus', 'pro', 'enterprise'], [72, 18, 8, 2]);
export const DESKTOP_OS = new Weighted(['Windows', 'macOS', 'Linux', 'ChromeOS'], [66, 26, 5, 3]);

/** App releases: version, release time as a fraction of the window (negative: before it). */
export const RELEASES: readonly [string, number][] = [
  ['3.2.4', -1],
  ['3.3.0', 0.2],
  ['3.3.1', 0.3],
  ['3.4.0', 0.7],
];
/** Session ids arrived with 3.3.0: older app versions send none. */
export const FIRST_VERSION = RELEASES[0][0];
/** 3.3.0 shipped a checkout bug; 3.4.0 a slower search. */
export const BUGGY_VERSION = '3.3.0';
export const SLOW_SEARCH_VERSION = '3.4.0';

export const CATEGORIES = ['electronics', 'books', 'home', 'fashion', 'toys', 'sports', 'beauty', 'garden'];
export const ITEMS = [1001, 1002, 1003, 1017, 1024, 1042, 1100, 1234, 1337, 2048, 3001, 4096];
export const ITEM_PRICES = [19.99, 249, 8.5, 59.9, 129, 34.95, 4.99, 899, 15, 74.5, 12.25, 449];
export const ITEM_ZIPF = new Weighted(ITEMS.map((_, i) => i), ITEMS.map((_, i) => 1 / (i + 1)));
export const BLOG = ['launch', 'pricing', 'tips', 'roadmap', 'security', 'holiday-guide', 'changelog', 'careers', 'story', 'api'];

type Landing = 'root' | 'home' | 'category' | 'deals' | 'blog' | 'item' | 'help' | 'about';
export const LANDING = new Weighted<Landing>(
  ['root', 'home', 'category', 'deals', 'blog', 'item', 'help', 'about'],
  [30, 15, 25, 8, 10, 8, 2, 2],
);

/** Median latency in ms by path prefix (log-normal around it). */
export function baseLatencyMs(path: string): number {
  if (path.startsWith('/search')) return 140;
  if (path.startsWith('/item/')) return 85;
  if (path.startsWith('/category/')) return 70;
  if (path === '/checkout/confirm') return 480;
  if (path.startsWith('/checkout')) return 220;
  if (path.startsWith('/api/')) return 45;
  if (path === '/login' || path === '/signup') return 130;
  if (path.startsWith('/account')) return 90;
  return 35;
}

/** The fixed set of event names (20). */
export const EVENT_NAMES = [
  'page_view', 'search', 'view_item', 'add_to_cart', 'checkout', 'purchase',
  'signup', 'login', 'logout', 'share', 'error', 'click', 'scroll', 'view_cart',
  'remove_from_cart', 'apply_coupon', 'rate_item', 'notification_open', 'settings_change', 'video_play',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];
/** The purchase funnel, in order; each step's count never exceeds the previous step's. */
export const FUNNEL: readonly EventName[] = ['page_view', 'search', 'view_item', 'add_to_cart', 'checkout', 'purchase'];

export const CLIENT_NOISE = new Weighted<EventName>(['scroll', 'click', 'video_play', 'share', 'rate_item', 'error'], [40, 35, 8, 7, 6, 4]);

export function statusFor(rng: Rng, event: EventName): number {
  switch (event) {
    case 'page_view':
      return rng.chance(0.04) ? 304 : rng.chance(0.02) ? 404 : 200;
    case 'view_item':
      return rng.chance(0.015) ? 404 : 200;
    case 'login':
      return rng.chance(0.05) ? 401 : 200;
    case 'add_to_cart':
    case 'purchase':
    case 'signup':
      return 201;
    case 'logout':
    case 'remove_from_cart':
      return 204;
    default:
      return rng.chance(0.002) ? 429 : 200;
  }
}
