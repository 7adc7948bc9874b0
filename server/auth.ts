/**
 * Who may do what, and how often. API keys and roles: keys come from SHOAL_API_KEYS
 * ("key1:read,key2:ingest,key3:admin") or a config file with the same lines; a request sends
 * `Authorization: Bearer KEY`. Roles nest: admin ⊃ ingest ⊃ read. Keys are compared by their
 * SHA-256 digests with timingSafeEqual, over every configured key, so timing reveals neither a
 * key nor how much of one matched.
 *
 * Rate limit (@fastify/rate-limit): each client — its API key when it sends one, else its IP
 * address — may make `max` requests per `windowMs` (default 6000 per minute); past that it gets
 * 429 RATE_LIMITED with Retry-After. It is checked before auth, so key guessing is limited too.
 * /healthz is exempt, and so is loopback while no API keys are configured (the server then
 * listens on 127.0.0.1 only, for its owner).
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ShoalError } from '../engine/index.js';

export type Role = 'read' | 'ingest' | 'admin';
/** What a route needs: a role, or nothing (`public`). */
export type Access = Role | 'public';

const RANK: Record<Role, number> = { read: 1, ingest: 2, admin: 3 };

export interface ApiKey {
  digest: Buffer;
  role: Role;
}

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** Parses "key:role" entries separated by commas or newlines; throws on a bad role. */
export function parseApiKeys(spec: string): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const raw of spec.split(/[,\n]/)) {
    const item = raw.trim();
    if (item.length === 0 || item.startsWith('#')) continue;
    const at = item.lastIndexOf(':');
    const key = item.slice(0, at);
    const role = item.slice(at + 1) as Role;
    if (at <= 0 || !Object.hasOwn(RANK, role)) throw new ShoalError('BAD_REQUEST', [`bad API key entry (want KEY:read|ingest|admin): ${item.slice(0, 4)}…`]);
    keys.push({ digest: digest(key), role });
  }
  return keys;
}

/** Keys from SHOAL_API_KEYS and/or SHOAL_API_KEYS_FILE. */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv = process.env): ApiKey[] {
  const keys = env.SHOAL_API_KEYS ? parseApiKeys(env.SHOAL_API_KEYS) : [];
  const file = env.SHOAL_API_KEYS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ShoalError('IO_ERROR', [file, e.code === 'ENOENT' ? 'no such file' : e.message]);
    }
    keys.push(...parseApiKeys(text));
  }
  return keys;
}

/** The role of the key in an Authorization header, or null when missing or unknown. */
export function roleOf(keys: readonly ApiKey[], authorization: string | undefined): Role | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (m === null) return null;
  const d = digest(m[1]);
  let found: Role | null = null;
  for (const k of keys) if (timingSafeEqual(k.digest, d)) found = k.role;
  return found;
}

/** Throws 401 / 403 unless the request may use a route needing `access`. */
export function authorize(keys: readonly ApiKey[], access: Access, authorization: string | undefined): void {
  if (access === 'public' || keys.length === 0) return;
  const role = roleOf(keys, authorization);
  if (role === null) throw new ShoalError('UNAUTHORIZED', [authorization ? 'unknown API key' : 'missing API key']);
  if (RANK[role] < RANK[access]) throw new ShoalError('FORBIDDEN', [role, access]);
}

export interface RateLimitOptions {
  /** Requests per window per client; 0 turns the limit off. */
  max: number;
  windowMs: number;
  /** Exempt 127.0.0.1 / ::1 (default: only when no API keys are configured). */
  exemptLoopback?: boolean;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { max: 6000, windowMs: 60_000 };

/** The rate limit from SHOAL_RATE_LIMIT_MAX and SHOAL_RATE_LIMIT_WINDOW_MS over the defaults. */
export function rateLimitFromEnv(env: NodeJS.ProcessEnv = process.env): RateLimitOptions {
  const pick = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new ShoalError('BAD_REQUEST', [`${name} must be a non-negative integer, got "${value.slice(0, 20)}"`]);
    return n;
  };
  return {
    max: pick(env.SHOAL_RATE_LIMIT_MAX, DEFAULT_RATE_LIMIT.max, 'SHOAL_RATE_LIMIT_MAX'),
    windowMs: Math.max(1, pick(env.SHOAL_RATE_LIMIT_WINDOW_MS, DEFAULT_RATE_LIMIT.windowMs, 'SHOAL_RATE_LIMIT_WINDOW_MS')),
  };
}

const LOOPBACK_IPS = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Registers the per-client request rate limit (see the header comment). */
export async function registerRateLimit(app: FastifyInstance, limit: RateLimitOptions, keys: readonly ApiKey[]): Promise<void> {
  if (limit.max <= 0) return;
  const exemptLoopback = limit.exemptLoopback ?? keys.length === 0;
  await app.register(fastifyRateLimit, {
    // Not per route: one app-level hook (below), so it runs before auth and also counts
    // requests that fail it (key guessing) or match no route (URL guessing).
    global: false,
    max: limit.max,
    timeWindow: limit.windowMs,
    // A client is its API key when it sends a valid one (by digest: keys never sit in memory
    // as map keys), else its address — so guessing keys from one address is limited as one.
    keyGenerator: (req) => {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      return m !== null && roleOf(keys, req.headers.authorization) !== null ? `key:${digest(m[1]).toString('base64')}` : `ip:${req.ip}`;
    },
    allowList: (req) => req.url === '/healthz' || (exemptLoopback && LOOPBACK_IPS.has(req.ip)),
    errorResponseBuilder: (_req, ctx) => new ShoalError('RATE_LIMITED', [ctx.max, limit.windowMs / 1000, Math.ceil(ctx.ttl / 1000)]),
  });
  app.addHook('onRequest', app.rateLimit());
}
