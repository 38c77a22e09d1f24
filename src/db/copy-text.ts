/**
 * Encodes rows in PostgreSQL's COPY text format: tab-separated, `\N` for null, with backslash,
 * tab, newline and carriage return escaped. Objects are written as JSON (for jsonb columns).
 * Yields chunks of about 1 MiB so a large load never builds one giant string.
 */
export function* encodeCopyText(rows: unknown[][]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += copyLine(row);
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** One row as a COPY text line: its values encoded by copyValue, tab-separated, ending in a newline. */
export function copyLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i === 0 ? '' : '\t') + copyValue(values[i]);
  return `${line}\n`;
}

/** One value in COPY text format: `\N` for null, dates as ISO text, objects as JSON, the rest as text. */
function copyValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number') return String(value);
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
