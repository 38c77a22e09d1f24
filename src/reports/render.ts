import type { Db } from '../db/database';
import { datasetReportDocument } from './dataset-report';
import { loadDatasetReportView, resolveDatasetVersionId } from './dataset-view';
import { driftReportDocument } from './drift-report';
import { loadDriftReportView } from './drift-view';
import { renderReportHtml } from './html-document';
import { runReportDocument } from './run-report';
import { loadRunReportView, resolveTrainingRunId } from './run-view';

/** A rendered report and the id of what it shows (for its default file name). */
export interface RenderedReport {
  kind: 'run' | 'dataset' | 'drift';
  id: string;
  html: string;
}

/** A run report from a training run id, a pipeline workflow id or `<model>@<version|alias>`. */
export async function renderRunReport(db: Db, reference: string): Promise<RenderedReport> {
  const id = await resolveTrainingRunId(db, reference);
  return { kind: 'run', id, html: renderReportHtml(runReportDocument(await loadRunReportView(db, id))) };
}

/** A dataset report from `<name>`, `<name>@<version id prefix>` or a version id (prefix). */
export async function renderDatasetReport(db: Db, reference: string): Promise<RenderedReport> {
  const id = await resolveDatasetVersionId(db, reference);
  return { kind: 'dataset', id, html: renderReportHtml(datasetReportDocument(await loadDatasetReportView(db, id))) };
}

export async function renderDriftReport(db: Db, reportId: number): Promise<RenderedReport> {
  return { kind: 'drift', id: String(reportId), html: renderReportHtml(driftReportDocument(await loadDriftReportView(db, reportId))) };
}

/** `keel-report-<kind>-<id>.html`, the id made safe for a file name (a run id holds slashes). */
export function defaultReportFileName(report: Pick<RenderedReport, 'kind' | 'id'>): string {
  return `keel-report-${report.kind}-${report.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.html`;
}
