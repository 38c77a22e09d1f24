import { redactSecrets } from '../shared/redact';

/**
 * A database that cannot be used, said the way an operator can act on it: which server, as whom,
 * which database, and why (authentication failed, refused, unknown host, timeout…) — never the
 * password. Thrown by openDatabase when the first statement (the migrations) fails to connect.
 */
export class DatabaseConnectionError extends Error {
  override readonly name = 'DatabaseConnectionError';
}

/** Where a postgres:// URL points, without its password. */
function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || '(default)';
    return `PostgreSQL at ${u.hostname || 'localhost'}:${u.port || '5432'} as user "${decodeURIComponent(u.username) || '(default)'}", database "${database}"`;
  } catch {
    return 'PostgreSQL (DATABASE_URL is not a valid URL)';
  }
}

const CAUSES: Record<string, string> = {
  '28P01': 'password authentication failed',
  '28000': 'authentication refused (no pg_hba.conf entry or role not allowed)',
  '3D000': 'the database does not exist',
  '53300': 'too many connections',
  '57P03': 'the server is starting up or shutting down',
  ECONNREFUSED: 'connection refused (is PostgreSQL running on that port?)',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'the host name could not be resolved',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out connecting',
  CONNECT_TIMEOUT: 'timed out connecting',
  ECONNRESET: 'the connection was reset',
};

/** The innermost error of a chain (drizzle wraps the driver's error in a "Failed query" one). */
function rootCause(error: unknown): { code?: string; message: string } {
  let current = error as { cause?: unknown; code?: string; message?: string; errors?: unknown[] };
  while (current && typeof current === 'object') {
    if (current.code) break;
    const inner = current.cause ?? (Array.isArray(current.errors) ? current.errors[0] : undefined);
    if (!inner || typeof inner !== 'object') break;
    current = inner;
  }
  return { code: current?.code, message: String(current?.message ?? error) };
}

/** A DatabaseConnectionError when `error` is a failure to connect or log in; otherwise undefined. */
export function connectionError(error: unknown, url: string): DatabaseConnectionError | undefined {
  const { code, message } = rootCause(error);
  if (!code || !(code in CAUSES)) return undefined;
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return '';
    }
  })();
  const detail = redactSecrets(message, password ? [password] : []);
  return new DatabaseConnectionError(`cannot connect to ${describeTarget(url)}: ${CAUSES[code]} (${code}: ${detail})`, { cause: error });
}
