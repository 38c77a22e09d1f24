import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { TopLevelSpec } from 'vega-lite';
import { vegaBuilds } from './vega-bundle';

/**
 * One self-contained HTML file: the report's text, its Vega-Lite specs with their data as JSON,
 * and the Vega, Vega-Lite and vega-embed builds, all inline. It makes no request at all, so it
 * opens from a file, an e-mail attachment or a ticket with no network (as Evidently's do).
 *
 * Text goes through hono's `html` template, which escapes every interpolated value; the inlined
 * scripts and the JSON are escaped so no `</script` or `<!--` inside them can end their element.
 */
export type Html = HtmlEscapedString;

export interface ReportChart {
  title: string;
  spec: TopLevelSpec;
  /** One sentence under the chart: what to read from it. */
  caption?: string;
}

export interface ReportSection {
  title: string;
  /** Shown when the section has nothing to draw (e.g. no curves stored for an old run). */
  empty?: string;
  charts: ReportChart[];
  /** Tables and text after the charts. */
  body?: Html;
}

export interface ReportContent {
  kind: 'run' | 'dataset' | 'drift';
  title: string;
  /** Key facts under the title (id, model, status). */
  facts: [label: string, value: string][];
  sections: ReportSection[];
}

/** The whole document as a string. */
export async function renderReportHtml(content: ReportContent): Promise<string> {
  const builds = await vegaBuilds();
  const charts = content.sections.flatMap((section) => section.charts);
  let next = 0;
  const chartSlot = (chart: ReportChart) => {
    const id = `chart-${next++}`;
    // The spec draws its own title; the figure names the chart for tests and screen readers.
    return html`<figure class="chart" aria-label="${chart.title}"><div id="${id}" class="vega" data-chart="${chart.title}"></div>${
      chart.caption ? html`<p class="caption">${chart.caption}</p>` : ''
    }</figure>`;
  };
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="keel report ${content.kind}">
<title>${content.title}</title>
<style>${raw(STYLE)}</style>
</head>
<body data-report="${content.kind}">
<header><h1>${content.title}</h1>
<dl class="facts">${content.facts.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
<nav>${content.sections.map((section, i) => html`<a href="#section-${i}">${section.title}</a>`)}</nav>
</header>
<main>
${content.sections.map(
  (section, i) => html`<section id="section-${i}"><h2>${section.title}</h2>
${section.charts.length === 0 && section.empty ? html`<p class="empty">${section.empty}</p>` : ''}
<div class="charts">${section.charts.map(chartSlot)}</div>
${section.body ?? ''}
</section>`,
)}
</main>
<footer>Written by keel. Self-contained: the charts are drawn by Vega, Vega-Lite and vega-embed, inlined below with their data; the file makes no network request.</footer>
${builds.map((build) => html`<script>${raw(inlineScript(build))}</script>\n`)}
<script type="application/json" id="keel-report-specs">${raw(inlineJson(charts.map((chart) => chart.spec)))}</script>
<script>${raw(BOOTSTRAP)}</script>
</body>
</html>
`;
  return String(await document);
}

/** Script text that cannot close its element early (`</script`, `<!--` are the HTML parser's traps). */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

/** JSON that is safe inside a script element: every `<` becomes \u003c (still the same JSON). */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Draws every chart as SVG (marks are elements a test can count) without the export menu, whose
 * links lead to the online editor. When all are drawn, `data-charts-rendered` on <body> says how
 * many; a chart that fails shows its error in place and is counted in `data-chart-errors`.
 */
const BOOTSTRAP = `(function () {
  var specs = JSON.parse(document.getElementById('keel-report-specs').textContent);
  var errors = 0;
  Promise.all(specs.map(function (spec, i) {
    var target = document.getElementById('chart-' + i);
    return vegaEmbed(target, spec, { actions: false, renderer: 'svg' }).catch(function (error) {
      errors++;
      target.textContent = 'This chart could not be drawn: ' + error.message;
    });
  })).then(function () {
    document.body.setAttribute('data-chart-errors', String(errors));
    document.body.setAttribute('data-charts-rendered', String(specs.length - errors));
  });
})();`;

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }
header { background: #fff; border-bottom: 1px solid #d0d7de; padding: 16px 32px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 8px; }
.facts dt { color: #59636e; } .facts dd { margin: 0; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
nav a { margin-right: 16px; color: #0969da; text-decoration: none; }
main { padding: 16px 32px; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: 16px; margin-bottom: 16px; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; max-width: 100%; overflow-x: auto; }
.caption, .empty, footer { color: #59636e; }
footer { padding: 0 32px 24px; font-size: 12px; }
table { border-collapse: collapse; margin-top: 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #d0d7de; padding: 4px 10px; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #cf222e; font-weight: 600; }
code { font-family: ui-monospace, monospace; font-size: 12px; }
`;
