/**
 * Dates for the mapping: format patterns (`YYYY-MM`, `YYYY MMM`, `MM/DD/YYYY`,
 * `YYYY-MM-DDTHH:mm:ss`), the ISO forms canonical columns hold, and "naive" Dates — a Date whose
 * UTC fields are the wall-clock fields (what hyparquet returns for TIMESTAMP without a zone). Pure
 * and deterministic: no locale, no time zone of the machine.
 */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const monthByName = new Map<string, number>();
MONTHS.forEach((name, i) => {
  monthByName.set(name, i + 1);
  monthByName.set(name.slice(0, 3), i + 1);
});
monthByName.set('sept', 9);

type Field = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

interface CompiledFormat {
  format: string;
  regex: RegExp;
  fields: (Field | 'monthName')[];
}

const TOKENS: [string, string, Field | 'monthName'][] = [
  ['YYYY', '(\\d{4})', 'year'],
  ['MMMM', '([A-Za-z]{3,9})', 'monthName'],
  ['MMM', '([A-Za-z]{3,4})', 'monthName'],
  ['MM', '(\\d{2})', 'month'],
  ['M', '(\\d{1,2})', 'month'],
  ['DD', '(\\d{2})', 'day'],
  ['D', '(\\d{1,2})', 'day'],
  ['HH', '(\\d{2})', 'hour'],
  ['H', '(\\d{1,2})', 'hour'],
  ['mm', '(\\d{2})', 'minute'],
  ['ss', '(\\d{2})', 'second'],
  ['SSS', '(\\d{3})', 'millisecond'],
];

/** Compiles a format pattern; throws on a pattern without a year. */
export function compileDateFormat(format: string): CompiledFormat {
  let source = '';
  const fields: CompiledFormat['fields'] = [];
  for (let i = 0; i < format.length;) {
    const token = TOKENS.find(([t]) => format.startsWith(t, i));
    if (token) {
      source += token[1];
      fields.push(token[2]);
      i += token[0].length;
    } else {
      const ch = format[i];
      source += /\s/.test(ch) ? '\\s+' : ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      i++;
    }
  }
  if (!fields.includes('year')) throw new Error(`date format ${JSON.stringify(format)} has no year (YYYY)`);
  return { format, regex: new RegExp(`^${source}$`, 'i'), fields };
}

/**
 * Reads `text` with the first matching format; returns a naive Date, or an error message. Missing
 * parts default to the start (month 1, day 1, 00:00:00). Impossible dates (Feb 30) are errors.
 */
export function parseDateWithFormats(text: string, formats: readonly CompiledFormat[]): Date | string {
  const trimmed = text.trim();
  for (const format of formats) {
    const match = format.regex.exec(trimmed);
    if (!match) continue;
    const parts: Record<Field, number> = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 };
    for (let i = 0; i < format.fields.length; i++) {
      const field = format.fields[i];
      const value = match[i + 1];
      if (field === 'monthName') {
        const month = monthByName.get(value.toLowerCase());
        if (month === undefined) return `unknown month name "${value}"`;
        parts.month = month;
      } else {
        parts[field] = Number(value);
      }
    }
    return naiveDate(parts) ?? `not a real date: "${trimmed}"`;
  }
  return `does not match ${formats.length === 1 ? 'the format' : 'any of the formats'} ${formats.map((f) => f.format).join(', ')}`;
}

function naiveDate(p: Record<Field, number>): Date | undefined {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.hour > 23 || p.minute > 59 || p.second > 59) return undefined;
  const date = new Date(Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond));
  if (date.getUTCDate() !== p.day || date.getUTCFullYear() !== p.year) return undefined;
  return date;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * The default reading of date and datetime values: `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:mm[:ss[.SSS]]`
 * with an optional zone (converted to UTC; canonical datetimes carry no zone).
 */
export function parseIsoDate(text: string): Date | string {
  const trimmed = text.trim();
  let match = ISO_DATE.exec(trimmed);
  if (match) {
    return (
      naiveDate({ year: +match[1], month: +match[2], day: +match[3], hour: 0, minute: 0, second: 0, millisecond: 0 }) ??
      `not a real date: "${trimmed}"`
    );
  }
  match = ISO_DATETIME.exec(trimmed);
  if (!match) return 'expected YYYY-MM-DD or YYYY-MM-DDTHH:mm:ss';
  const date = naiveDate({
    year: +match[1],
    month: +match[2],
    day: +match[3],
    hour: +match[4],
    minute: +match[5],
    second: +(match[6] ?? 0),
    millisecond: match[7] ? Number(match[7].padEnd(3, '0')) : 0,
  });
  if (!date) return `not a real date: "${trimmed}"`;
  const zone = match[8];
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return new Date(date.getTime() - sign * minutes * 60_000);
  }
  return date;
}

/** `2001-01-01` */
export function isoDateOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

// Sorted sources (flights by time) repeat timestamps: the last answer is kept.
let lastMs = Number.NaN;
let lastIso = '';

/** `2001-01-01T00:01:00` (milliseconds kept only when not zero). */
export function naiveIso(date: Date): string {
  const ms = date.getTime();
  if (ms === lastMs) return lastIso;
  const iso = date.toISOString();
  lastIso = date.getUTCMilliseconds() === 0 ? iso.slice(0, 19) : iso.slice(0, 23);
  lastMs = ms;
  return lastIso;
}

export function datePart(date: Date, part: 'year' | 'month' | 'day' | 'hour' | 'minute' | 'weekday'): number {
  switch (part) {
    case 'year':
      return date.getUTCFullYear();
    case 'month':
      return date.getUTCMonth() + 1;
    case 'day':
      return date.getUTCDate();
    case 'hour':
      return date.getUTCHours();
    case 'minute':
      return date.getUTCMinutes();
    case 'weekday':
      return date.getUTCDay();
  }
}
