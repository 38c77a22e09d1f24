import { parser } from '@prometheus-io/lezer-promql';

/**
 * Reading a Grafana dashboard's PromQL with Prometheus's own grammar (lezer-promql, the parser of
 * the Prometheus web UI): every query, the metric each selector reads and the labels it matches.
 */

export interface DashboardQuery {
  /** Where it is: the panel title and refId, or the template variable. */
  where: string;
  /** As written in the dashboard, Grafana variables included. */
  expr: string;
  /** Grafana's variables replaced: plain PromQL that Prometheus parses. */
  promql: string;
}

export interface Selector {
  metric: string;
  labels: string[];
}

interface Panel {
  title?: string;
  panels?: Panel[];
  targets?: { expr?: string; refId?: string }[];
}

interface Dashboard {
  panels: Panel[];
  templating?: { list: { name: string; query?: { query?: string } | string }[] };
}

/** Grafana's built-in interval variables and the dashboard's own ($model, $version) as Prometheus would see them. */
function withoutGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?[a-z_]+\}?/g, '.+');
}

/** Every PromQL expression of the dashboard: panel targets (rows included) and `label_values(...)` of variables. */
export function dashboardQueries(dashboard: Dashboard): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const visit = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr)
          queries.push({
            where: `panel "${panel.title}" ${target.refId}`,
            expr: target.expr,
            promql: withoutGrafanaVariables(target.expr),
          });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const inner = query && /^label_values\((.+),\s*[a-zA-Z_]\w*\)$/.exec(query);
    if (inner) queries.push({ where: `variable $${variable.name}`, expr: query, promql: withoutGrafanaVariables(inner[1]) });
  }
  return queries;
}

/** The selectors of one PromQL expression; throws on a syntax error, naming where it is. */
export function selectorsOf(promql: string): Selector[] {
  const tree = parser.parse(promql);
  const selectors: Selector[] = [];
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError)
      throw new Error(`PromQL syntax error at ${cursor.from}: ${promql.slice(0, cursor.from)}⟨here⟩${promql.slice(cursor.from)}`);
    if (cursor.name !== 'VectorSelector') continue;
    const node = cursor.node;
    const metric = node.getChild('Identifier');
    if (!metric) throw new Error(`a selector without a metric name: ${promql.slice(node.from, node.to)}`);
    const labels: string[] = [];
    for (const matcher of node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []) {
      const name = matcher.getChild('LabelName');
      if (name) labels.push(promql.slice(name.from, name.to));
    }
    selectors.push({ metric: promql.slice(metric.from, metric.to), labels });
  } while (cursor.next());
  return selectors;
}

/** Sample name → the label names seen on its samples, from a Prometheus text exposition. */
export function scrapedSeries(exposition: string): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0];
    if (!name) throw new Error(`not a sample line: ${line}`);
    const labels = series.get(name) ?? new Set<string>();
    if (line[name.length] === '{') {
      // Label values may hold braces and escaped quotes (route="/v2/models/{name}/infer").
      const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y;
      pair.lastIndex = name.length + 1;
      let end = pair.lastIndex;
      for (let match = pair.exec(line); match; match = pair.exec(line)) {
        labels.add(match[1]);
        end = pair.lastIndex;
      }
      if (line[end] !== '}') throw new Error(`unreadable labels at ${end}: ${line}`);
    }
    series.set(name, labels);
  }
  return series;
}
