import { temporalRunUrl } from '../registry/lineage';

/** Where the Temporal web UI is, to link each page to the matching page there. */
export interface TemporalLinks {
  /** Base URL of the Temporal web UI; none: no links. */
  ui?: string;
  namespace: string;
}

export function temporalWorkflowsUrl(links: TemporalLinks, workflowType?: string): string | undefined {
  if (!links.ui) return undefined;
  const base = `${links.ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/workflows`;
  return workflowType ? `${base}?query=${encodeURIComponent(`WorkflowType="${workflowType}"`)}` : base;
}

export function temporalWorkflowUrl(links: TemporalLinks, workflowId: string, runId?: string): string | undefined {
  if (!links.ui) return undefined;
  if (runId) return temporalRunUrl(links.ui, links.namespace, workflowId, runId);
  return `${links.ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

export function temporalSchedulesUrl(links: TemporalLinks): string | undefined {
  return links.ui && `${links.ui.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(links.namespace)}/schedules`;
}

/** The dashboard's own URLs (ids with slashes are encoded into one path segment). */
export const paths = {
  runs: () => '/runs',
  run: (pipelineRunId: string) => `/runs/${encodeURIComponent(pipelineRunId)}`,
  data: () => '/data',
  dataset: (id: string) => `/data/${encodeURIComponent(id)}`,
  quarantine: (id: string) => `/data/${encodeURIComponent(id)}/quarantine`,
  rows: (id: string) => `/data/${encodeURIComponent(id)}/rows`,
  models: () => '/models',
  model: (name: string) => `/models/${encodeURIComponent(name)}`,
  version: (name: string, version: number) => `/models/${encodeURIComponent(name)}/v/${version}`,
  diff: (name: string, a: number, b: number) => `/models/${encodeURIComponent(name)}/diff?a=${a}&b=${b}`,
  rollouts: () => '/rollouts',
  rollout: (id: string) => `/rollouts/${encodeURIComponent(id)}`,
  monitoring: () => '/monitoring',
  monitoringModel: (name: string) => `/monitoring/${encodeURIComponent(name)}`,
  driftReport: (id: number) => `/monitoring/reports/${id}`,
};
