import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { RequestError } from './predict';

/**
 * Optional API keys. With `KEEL_API_KEYS` set (comma-separated), prediction, feedback and model
 * metadata need one of them; with `KEEL_ADMIN_KEYS` set, the admin routes (refresh, routes) need
 * an admin key, which also works wherever a prediction key does. Unset: that level is open.
 * Health checks and /metrics stay open, for load balancers and Prometheus.
 * Keys are sent as `Authorization: Bearer <key>` or `X-API-Key: <key>` and compared in constant
 * time (as sha256 digests, so length does not leak either).
 */

export type Access = 'open' | 'predict' | 'admin';

export interface ApiKeys {
  predict: string[];
  admin: string[];
}

export function apiKeysFromEnv(env: NodeJS.ProcessEnv = process.env): ApiKeys {
  const list = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean);
  return { predict: list(env.KEEL_API_KEYS), admin: list(env.KEEL_ADMIN_KEYS) };
}

export class Authenticator {
  private readonly predict: Buffer[];
  private readonly admin: Buffer[];

  constructor(keys: ApiKeys) {
    this.predict = keys.predict.map(digest);
    this.admin = keys.admin.map(digest);
  }

  /** Throws 401 (no or unknown key) or 403 (a prediction key on an admin route). */
  check(req: IncomingMessage, access: Access): void {
    if (access === 'open') return;
    if (access === 'predict' && this.predict.length === 0) return;
    if (access === 'admin' && this.admin.length === 0) return;
    const presented = presentedKey(req);
    if (presented === undefined) throw new UnauthorizedError(`this route needs an API key (Authorization: Bearer <key> or X-API-Key)`);
    const key = digest(presented);
    if (matches(this.admin, key)) return;
    if (matches(this.predict, key)) {
      if (access === 'admin') throw new RequestError(403, 'this route needs an admin key (KEEL_ADMIN_KEYS); a prediction key is not enough');
      return;
    }
    throw new UnauthorizedError('unknown API key');
  }
}

export class UnauthorizedError extends RequestError {
  constructor(message: string) {
    super(401, message);
  }
}

function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const apiKey = req.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : undefined;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function matches(keys: Buffer[], key: Buffer): boolean {
  let found = false;
  for (const candidate of keys) found = timingSafeEqual(candidate, key) || found;
  return found;
}
