/**
 * Encodes rows in PostgreSQL's COPY text format: tab-separated, `\N` for null, with backslash,
 * tab, newline and carriage return escaped. Objects are written as JSON (for jsonb columns).
 * Yields chunks of about 1 MiB so a large load never builds one giant string.
 */
export function* encodeCopyText(rows: unknown[][]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += row.map(encodeValue).join('\t') + '\n';
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function encodeValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  return copyField(typeof value === 'object' ? JSON.stringify(value) : String(value));
}

/** One text value as a COPY text field (not null): backslash, tab, newline and carriage return escaped. */
export function copyField(text: string): string {
  // Most values need no escaping; testing first is much cheaper than always replacing.
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c]) : text;
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPE_ALL = /[\\\t\n\r]/g;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
