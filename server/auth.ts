/**
 * API keys and roles. Keys come from SHOAL_API_KEYS ("key1:read,key2:ingest,key3:admin") or a
 * config file with the same lines; a request sends `Authorization: Bearer KEY`. Roles nest:
 * admin ⊃ ingest ⊃ read. Keys are compared by their SHA-256 digests with timingSafeEqual, over
 * every configured key, so timing reveals neither a key nor how much of one matched.
 */
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
    if (at <= 0 || !(role in RANK)) throw new Error(`bad API key entry (want KEY:read|ingest|admin): ${item.slice(0, 4)}…`);
    keys.push({ digest: digest(key), role });
  }
  return keys;
}

/** Keys from SHOAL_API_KEYS and/or SHOAL_API_KEYS_FILE. */
export function apiKeysFromEnv(env: NodeJS.ProcessEnv = process.env): ApiKey[] {
  const keys = env.SHOAL_API_KEYS ? parseApiKeys(env.SHOAL_API_KEYS) : [];
  if (env.SHOAL_API_KEYS_FILE) keys.push(...parseApiKeys(readFileSync(env.SHOAL_API_KEYS_FILE, 'utf8')));
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
