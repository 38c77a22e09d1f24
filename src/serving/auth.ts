import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { RequestError } from './predict';

/**
 * Who may call what (docs/security.md).
 *
 * - `predict` surfaces (prediction, feedback, model metadata): open until prediction keys are
 *   configured (KEEL_API_KEYS or a `predict` key of the keys file); then they need one (an admin
 *   key works too).
 * - `admin` surfaces (refresh, routes, the dashboard's actions): open only when nobody but this
 *   machine can reach them and no key at all is configured. Otherwise they need an admin key,
 *   and without one configured they are closed. A prediction key never opens them.
 * - Health checks and /metrics stay open, for load balancers and Prometheus.
 * Keys come as `Authorization: Bearer <key>` (scheme in any case) or `X-API-Key: <key>` and are
 * compared in constant time, as sha256 digests, so their length does not leak either.
 */

export type Access = 'open' | 'predict' | 'admin';
type Role = 'predict' | 'admin';

export interface NamedKey {
  name: string;
  key: string;
  role: Role;
}

export interface ApiKeys {
  predict: string[];
  admin: string[];
  /** Keys with a name (KEEL_KEYS_FILE), so an audited action records who did it. */
  named?: NamedKey[];
}

/** Who called: the role of the key presented (`anonymous`: none), and its name when it has one (keys file). */
export interface Caller {
  role: Role | 'anonymous';
  name?: string;
}

/** The actor an audited action records: the key's name when it has one, else what the caller said, else `fallback`. */
export function actorOf(caller: Caller, claimed: unknown, fallback: string): string {
  if (caller.name) return `key:${caller.name}`;
  return typeof claimed === 'string' && claimed !== '' ? claimed : fallback;
}

const keysFileSchema = z
  .strictObject({
    keys: z
      .array(
        z
          .strictObject({
            name: z
              .string()
              .regex(/^[a-z0-9][a-z0-9._@-]{0,63}$/, 'must be lowercase letters, digits, . _ @ - (at most 64)')
              .describe('Who holds the key; recorded as the actor of audited actions (`key:<name>`).'),
            key: z.string().min(16, 'must be at least 16 characters').describe('The secret (compare `openssl rand -hex 24`).'),
            role: z
              .enum(['predict', 'admin'])
              .describe('`predict`: prediction, feedback, metadata; `admin`: also refresh, routes and dashboard actions.'),
          })
          .describe('One named key.'),
      )
      .describe('The named keys.'),
  })
  .describe('KEEL_KEYS_FILE: named API keys with roles.');

/** Reads KEEL_KEYS_FILE; errors name the file and the field, never a key. */
export function readKeysFile(path: string): NamedKey[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`KEEL_KEYS_FILE ${path}: cannot read it as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).name})`);
  }
  const parsed = z.safeParse(keysFileSchema, raw);
  if (!parsed.success) {
    // The issues' values could be keys: name the fields only.
    throw new Error(`KEEL_KEYS_FILE ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data.keys;
}

export const noKeys: ApiKeys = { predict: [], admin: [] };

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost|::ffff:127(\.\d{1,3}){3})$/;

function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}

/** What each level needs, given the keys and the interface listened on. */
export interface AccessPolicy {
  predict: 'open' | 'key';
  admin: 'open' | 'key' | 'closed';
  /** Why admin is what it is, for the start-up line and refusals. */
  adminReason: string;
}

export function accessPolicy(keys: ApiKeys, host: string): AccessPolicy {
  const named = keys.named ?? [];
  const predictKeys = keys.predict.length + named.filter((k) => k.role === 'predict').length;
  const adminKeys = keys.admin.length + named.filter((k) => k.role === 'admin').length;
  const predict = predictKeys > 0 ? 'key' : 'open';
  if (adminKeys > 0) return { predict, admin: 'key', adminReason: 'an admin key is configured' };
  if (predictKeys > 0)
    return {
      predict,
      admin: 'closed',
      adminReason: 'API keys are configured but no admin key (KEEL_ADMIN_KEYS or an admin key of KEEL_KEYS_FILE)',
    };
  if (!isLoopback(host))
    return {
      predict,
      admin: 'closed',
      adminReason: `listening on ${host}, not loopback, and no admin key is configured (KEEL_ADMIN_KEYS)`,
    };
  return { predict, admin: 'open', adminReason: `listening on loopback (${host}) and no key is configured` };
}

/** One line saying which surfaces are open, printed at start. */
export function describeAccess(policy: AccessPolicy, surface: 'model server' | 'dashboard'): string {
  const admin = surface === 'model server' ? 'admin (refresh, routes)' : 'actions (pause, resume, promote, rollback, approvals)';
  const adminState = policy.admin === 'open' ? 'OPEN to anyone on this machine' : policy.admin === 'key' ? 'need an admin key' : 'CLOSED';
  if (surface === 'dashboard') return `dashboard access: pages open; ${admin} ${adminState} (${policy.adminReason})`;
  const predictState = policy.predict === 'open' ? 'open to anyone who can connect (KEEL_API_KEYS unset)' : 'need an API key';
  return `model server access: predict, feedback, metadata ${predictState}; ${admin} ${adminState} (${policy.adminReason}); /healthz, /metrics open`;
}

interface Entry {
  digest: Buffer;
  role: Role;
  name?: string;
}

export class Authenticator {
  private readonly entries: Entry[];
  readonly policy: AccessPolicy;

  constructor(keys: ApiKeys, host = '127.0.0.1') {
    this.policy = accessPolicy(keys, host);
    // Named keys first: a key listed twice is known by its name.
    this.entries = [
      ...(keys.named ?? []).map((k) => ({ digest: digest(k.key), role: k.role, name: k.name })),
      ...keys.admin.map((key) => ({ digest: digest(key), role: 'admin' as const })),
      ...keys.predict.map((key) => ({ digest: digest(key), role: 'predict' as const })),
    ];
  }

  /** The caller, or throws 401 (no or unknown key) or 403 (admin closed, or a prediction key on an admin route). */
  check(headers: IncomingHttpHeaders, access: Access): Caller {
    // Open predictions are not audited: the hot path reads no header.
    if (access === 'open' || (access === 'predict' && this.policy.predict === 'open')) return ANONYMOUS;
    if (access === 'admin') {
      if (this.policy.admin === 'open') return this.optional(headers);
      if (this.policy.admin === 'closed') throw new RequestError(403, `admin routes are closed: ${this.policy.adminReason}`);
    }
    const presented = presentedKey(headers);
    if (presented === undefined)
      throw new UnauthorizedError(
        `this route needs ${access === 'admin' ? 'an admin' : 'an API'} key (Authorization: Bearer <key> or X-API-Key)`,
      );
    const entry = this.find(presented);
    if (!entry) throw new UnauthorizedError('unknown API key');
    if (access === 'admin' && entry.role !== 'admin')
      throw new RequestError(403, 'this route needs an admin key (KEEL_ADMIN_KEYS); a prediction key is not enough');
    return callerOf(entry);
  }

  /** On an open admin route a key is not needed, but a valid one still names the caller. */
  private optional(headers: IncomingHttpHeaders): Caller {
    const presented = presentedKey(headers);
    const entry = presented === undefined ? undefined : this.find(presented);
    return entry ? callerOf(entry) : ANONYMOUS;
  }

  private find(key: string): Entry | undefined {
    const wanted = digest(key);
    let found: Entry | undefined;
    // Every entry is compared, so the time does not say which one matched.
    for (const entry of this.entries) if (timingSafeEqual(entry.digest, wanted) && !found) found = entry;
    return found;
  }
}

const ANONYMOUS: Caller = Object.freeze({ role: 'anonymous' });

function callerOf(entry: Entry): Caller {
  return entry.name ? { role: entry.role, name: entry.name } : { role: entry.role };
}

class UnauthorizedError extends RequestError {
  constructor(message: string) {
    super(401, message);
  }
}

/** `Authorization: Bearer <key>` (the scheme in any case, RFC 9110 §11.1) or `X-API-Key`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  const bearer = typeof header === 'string' ? /^bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
  if (bearer) return bearer[1];
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey.trim() : undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}
