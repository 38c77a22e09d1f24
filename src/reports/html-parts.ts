import { html } from 'hono/html';
import type { Html } from './html-document';

/** Small pieces every report's text uses: numbers as people read them, and escaped tables. */

/** Four significant digits; `-` for null, NaN and undefined. */
export function num(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Number(value.toPrecision(4)).toString();
}

export function percent(share: number | null | undefined): string {
  return share === null || share === undefined || Number.isNaN(share) ? '-' : `${Number((share * 100).toPrecision(3))}%`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined | Html;
  /** Right-aligned, and numbers formatted with num(). */
  numeric?: boolean;
}

/** A table whose every cell is escaped (hono's html template). */
export function table<T>(columns: Column<T>[], rows: readonly T[]): Html {
  return html`<table><thead><tr>${columns.map((c) => html`<th class="${c.numeric ? 'num' : ''}">${c.header}</th>`)}</tr></thead><tbody>${rows.map(
    (row) =>
      html`<tr>${columns.map((c) => {
        const value = c.value(row);
        return html`<td class="${c.numeric ? 'num' : ''}">${typeof value === 'number' ? num(value) : value ?? '-'}</td>`;
      })}</tr>`,
  )}</tbody></table>` as Html;
}

/** Label/value pairs as a definition list. */
export function facts(pairs: [string, string | number | null | undefined | Html][]): Html {
  return html`<dl class="facts">${pairs.map(([label, value]) => html`<dt>${label}</dt><dd>${typeof value === 'number' ? num(value) : value ?? '-'}</dd>`)}</dl>` as Html;
}

export function verdict(passed: boolean, yes: string, no: string): Html {
  return html`<span class="${passed ? 'pass' : 'fail'}">${passed ? yes : no}</span>` as Html;
}
