import { raw } from 'hono/html';
import type { ChartSpec } from '../charts/spec';
import { h, type Html, scriptJson } from './template';

/**
 * A chart's place in a page: an element the client script (./client-script.ts) fills with
 * vega-embed, and the spec beside it as inert JSON. `id` names the chart for tests and links
 * (`window.keelCharts[id]` is its Vega view once drawn).
 */
export function chart(id: string, spec: ChartSpec | undefined, caption?: string): Html {
  if (!spec) return h``;
  return h`<figure class="chart-box"><div class="chart" id="${id}" data-chart="${id}"></div><script type="application/json" id="${id}-spec">${raw(scriptJson(spec))}</script>${
    caption ? h`<figcaption>${caption}</figcaption>` : ''
  }</figure>`;
}
