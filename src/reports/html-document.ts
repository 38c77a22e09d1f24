import { raw } from 'hono/html';
import { chartLibraries } from '../ui/assets';
import { clientScript } from '../ui/html/client-script';
import { styleSheet } from '../ui/html/style';
import { h, type Html } from '../ui/html/template';

/**
 * One self-contained HTML file: the dashboard's sections (src/ui/sections/, their specs as JSON
 * beside each chart), its style sheet and client script, and the Vega, Vega-Lite and vega-embed
 * builds, all inline. It makes no request at all, so it opens from a file, an e-mail attachment
 * or a ticket with no network, as Evidently's reports do.
 *
 * Text goes through hono's `html` template (`h`), which escapes every interpolated value; the
 * inlined scripts are escaped so no `</script` or `<!--` inside them can end their element.
 */
export interface ReportDocument {
  kind: 'run' | 'dataset' | 'drift';
  title: string;
  /** Key facts under the title (ids, status), as label and value. */
  facts: [label: string, value: string | Html][];
  body: Html;
}

export function renderReportHtml(report: ReportDocument): string {
  const scripts = [...chartLibraries().map((library) => library.text), clientScript];
  return String(h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="keel report ${report.kind}">
<title>${report.title} · keel</title>
<link rel="icon" href="data:,">
<style>${raw(inlineStyle(styleSheet))}</style>
</head>
<body data-report="${report.kind}">
<header class="top"><span class="brand">keel</span><span>${report.kind} report · self-contained: its data and chart code are inline, it opens offline</span></header>
<main>
<h1>${report.title}</h1>
<dl class="facts">${report.facts.map(([label, value]) => h`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
${report.body}
</main>
${scripts.map((script) => h`<script>${raw(inlineScript(script))}</script>\n`)}
</body>
</html>
`);
}

/** Script text that cannot close its element early (`</script` and `<!--` are the HTML parser's traps). */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function inlineStyle(css: string): string {
  return css.replace(/<\/(style)/gi, '<\\/$1');
}
