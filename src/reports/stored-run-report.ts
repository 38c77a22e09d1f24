import type { Db } from '../db/database';
import type { ArtifactStore } from '../registry/artifact-store';
import { findTrainingRun, saveRunReport } from '../registry/training-runs';
import { ReportNotFoundError } from './drift-view';
import { renderRunReport, type RenderedReport } from './render';
import { resolveTrainingRunId } from './run-view';

/**
 * Renders a training run's report and keeps it in the artifact store, its sha256 on the run.
 * Idempotent: the artifact is content-addressed, and a retry that renders the same data writes
 * the same bytes under the same key (a retry after the data changed records the newer report).
 */
export async function storeRunReport(db: Db, artifacts: ArtifactStore, trainingRunId: string): Promise<{ sha256: string; bytes: number }> {
  const report = await renderRunReport(db, trainingRunId);
  const bytes = new TextEncoder().encode(report.html);
  const sha256 = await artifacts.put(bytes);
  await saveRunReport(db, report.id, sha256);
  return { sha256, bytes: bytes.byteLength };
}

/** The report the pipeline stored for a run (any reference `keel report run` takes), verified against its sha256. */
export async function storedRunReport(db: Db, artifacts: ArtifactStore, reference: string): Promise<RenderedReport> {
  const id = await resolveTrainingRunId(db, reference);
  const sha = (await findTrainingRun(db, id))?.reportArtifactSha256;
  if (!sha) {
    throw new ReportNotFoundError(
      `training run ${id} has no stored report (runs that ended before reports were stored have none): leave out --stored to render it now`,
    );
  }
  return { kind: 'run', id, html: new TextDecoder().decode(await artifacts.get(sha)) };
}
