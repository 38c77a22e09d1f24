import { h, type Html } from '../html/template';

type Section = 'runs' | 'data' | 'features' | 'models' | 'rollouts' | 'monitoring';

export interface PageOptions {
  title: string;
  section: Section;
  /** The matching page of the Temporal web UI. */
  temporal?: { href: string | undefined; label: string };
  body: Html;
  /** Reload the page this often (a live view), unless the operator is typing into it. */
  refreshSeconds?: number;
}

const sections: [Section, string, string][] = [
  ['runs', '/runs', 'Runs'],
  ['data', '/data', 'Data'],
  ['features', '/features', 'Features'],
  ['models', '/models', 'Models'],
  ['rollouts', '/rollouts', 'Rollouts'],
  ['monitoring', '/monitoring', 'Monitoring'],
];

/** The dashboard's frame: navigation, the link to Temporal, the scripts (all served locally). */
export function layout(page: PageOptions): Html {
  return h`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · keel</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/keel-ui.css">
<script src="/assets/vega.min.js" defer></script>
<script src="/assets/vega-lite.min.js" defer></script>
<script src="/assets/vega-embed.min.js" defer></script>
<script src="/assets/keel-ui.js" defer></script>
</head>
<body${page.refreshSeconds ? h` data-refresh="${page.refreshSeconds}"` : ''}>
<header class="top">
  <a class="brand" href="/">keel</a>
  <nav>${sections.map(([key, href, label]) => h`<a href="${href}" class="${key === page.section ? 'active' : ''}">${label}</a>`)}</nav>
  ${page.temporal?.href ? h`<a class="temporal" id="temporal-link" href="${page.temporal.href}" target="_blank" rel="noopener">${page.temporal.label} in the Temporal UI ↗</a>` : ''}
</header>
<main>
<h1>${page.title}</h1>
${page.body}
</main>
</body>
</html>`;
}

/** A status as a coloured badge (the class names the status). */
export function badge(status: string): Html {
  return h`<span class="status ${status}">${status.replace(/_/g, ' ')}</span>`;
}
