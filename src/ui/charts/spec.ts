import type { TopLevelSpec } from 'vega-lite';

/**
 * Every chart of the dashboard and the HTML reports is a Vega-Lite spec made by a pure function
 * `data → spec` in this folder: declarative JSON that serialises into a page or a
 * self-contained report and is drawn by vega-embed in the browser (see docs/ui.md).
 */
export type ChartSpec = TopLevelSpec;

const chartWidth = 360;
const chartHeight = 240;

/** Fields shared by every chart: schema, size and a quiet look. */
export function base(title: string, options: { width?: number; height?: number } = {}) {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: options.width ?? chartWidth,
    height: options.height ?? chartHeight,
    config: { view: { stroke: null }, axis: { grid: true, gridOpacity: 0.4 } },
  } as const;
}
