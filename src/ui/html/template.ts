import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

/** Markup whose interpolated values hono has escaped (strings) or kept (nested `h` markup). */
export type Html = HtmlEscapedString;

/**
 * hono's `html` tag, typed for synchronous use: the sections never interpolate promises, so the
 * result is always a string, which a report can write to a file as it is.
 */
export function h(strings: TemplateStringsArray, ...values: unknown[]): Html {
  return html(strings, ...values) as Html;
}

/** JSON safe inside a `<script>` element: `<` is escaped, so no value can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
