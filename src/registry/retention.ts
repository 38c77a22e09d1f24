import { gte, isNull } from 'drizzle-orm';
import type { Db } from '../db/database';
import { aliasHistory, deployments, modelAliases, modelVersionEvents, modelVersions, routes } from '../db/schema';
import type { ArtifactStore } from './artifact-store';
import { trainingCheckpointArtifacts, trainingRunArtifacts } from './training-runs';

export interface GcOptions {
  /** Alias moves newer than this many days keep the artifacts of both their versions. Default 30. */
  historyRetentionDays?: number;
  /** Blobs written (or re-written) within this many minutes are never removed: a pipeline may be about to register them. Default 1440 (a day). */
  graceMinutes?: number;
  /** Report only; remove nothing. */
  dryRun?: boolean;
  now?: Date;
  actor?: string;
}

export interface GcReport {
  dryRun: boolean;
  historyCutoff: Date;
  graceCutoff: Date;
  scanned: number;
  kept: number;
  /** Unreferenced but too young to remove. */
  young: number;
  removed: { sha256: string; bytes: number; was: string }[];
  bytesRemoved: number;
  /** Why each referenced blob is kept (sha256 → reasons). */
  references: Record<string, string[]>;
  /** Referenced blobs that are not in the store (already lost, never garbage-collected). */
  missing: { sha256: string; reasons: string[] }[];
}

/**
 * Mark and sweep over the artifact store. A blob is kept when it is the ONNX artifact or the
 * trained-model JSON of a version that is
 *   - not deleted (active or archived), or
 *   - the target of an alias, or
 *   - named by an alias move within the history retention (so "what served at T" stays
 *     inspectable, and a recent production version can be restored), or
 *   - in a running deployment, or the baseline or candidate of a traffic route (a canary);
 * and also when it is the model JSON of a training run that made no version (a candidate the gate
 * rejected) younger than the history retention, and when it is the stored checkpoint of a
 * training run still in flight, updated within the history retention (older ones belong to runs
 * that were abandoned). Everything else older than the grace period is
 * removed; younger blobs are kept, because a running pipeline writes its artifacts before it
 * registers them (and a `put` of existing bytes refreshes their age).
 *
 * Any table that stores artifact hashes must be listed here, or its blobs are collected.
 */
export async function collectGarbage(db: Db, artifacts: ArtifactStore, options: GcOptions = {}): Promise<GcReport> {
  const now = options.now ?? new Date();
  const retentionDays = options.historyRetentionDays ?? 30;
  const graceMinutes = options.graceMinutes ?? 24 * 60;
  if (!(retentionDays >= 0) || !(graceMinutes >= 0)) throw new Error('retention and grace must be >= 0');
  const historyCutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const graceCutoff = new Date(now.getTime() - graceMinutes * 60_000);

  const [versions, aliases, moves, running, runs, routed, checkpoints] = await Promise.all([
    db
      .select({
        model: modelVersions.modelName,
        version: modelVersions.version,
        sha: modelVersions.artifactSha256,
        status: modelVersions.status,
        trainingRunId: modelVersions.trainingRunId,
      })
      .from(modelVersions),
    db.select().from(modelAliases),
    db.select().from(aliasHistory).where(gte(aliasHistory.at, historyCutoff)),
    db.select().from(deployments).where(isNull(deployments.endedAt)),
    trainingRunArtifacts(db),
    db.select().from(routes),
    trainingCheckpointArtifacts(db),
  ]);

  const key = (model: string, version: number) => `${model}@${version}`;
  const protectedVersions = new Map<string, string[]>();
  const protect = (model: string, version: number | null, why: string) => {
    if (version === null) return;
    const k = key(model, version);
    protectedVersions.set(k, [...(protectedVersions.get(k) ?? []), why]);
  };
  for (const v of versions) if (v.status !== 'deleted') protect(v.model, v.version, `${v.status} version`);
  for (const a of aliases) protect(a.modelName, a.version, `alias ${a.alias}`);
  for (const m of moves) {
    const when = m.at.toISOString();
    protect(m.modelName, m.toVersion, `alias ${m.alias} history (${when})`);
    protect(m.modelName, m.fromVersion, `alias ${m.alias} history (${when})`);
  }
  for (const d of running) protect(d.modelName, d.version, `running deployment ${d.workflowId}`);
  for (const r of routed) {
    protect(r.modelName, r.baselineVersion, 'traffic route baseline');
    protect(r.modelName, r.candidateVersion, 'traffic route candidate (canary)');
  }

  const references = new Map<string, string[]>();
  const refer = (sha: string, why: string) => references.set(sha, [...(references.get(sha) ?? []), why]);
  const runsWithVersions = new Set<string>();
  const runSha = new Map(runs.map((r) => [r.id, r.sha]));
  const runReportSha = new Map(runs.map((r) => [r.id, r.reportSha]));
  for (const v of versions) {
    if (v.trainingRunId) runsWithVersions.add(v.trainingRunId);
    const reasons = protectedVersions.get(key(v.model, v.version));
    if (!reasons) continue;
    for (const why of reasons) {
      refer(v.sha, `${key(v.model, v.version)} onnx: ${why}`);
      const modelJson = runSha.get(v.trainingRunId);
      if (modelJson) refer(modelJson, `${key(v.model, v.version)} model json: ${why}`);
      const report = runReportSha.get(v.trainingRunId);
      if (report) refer(report, `${key(v.model, v.version)} run report: ${why}`);
    }
  }
  for (const run of runs) {
    if (!runsWithVersions.has(run.id) && run.createdAt >= historyCutoff) {
      refer(run.sha, `training run ${run.id} (no version, within retention)`);
      if (run.reportSha) refer(run.reportSha, `training run ${run.id} report (no version, within retention)`);
    }
  }

  for (const c of checkpoints) {
    if (c.updatedAt >= historyCutoff) refer(c.sha, `training checkpoint of run ${c.trainingRunId} (iteration ${c.iteration})`);
  }

  const shaToVersion = new Map(versions.map((v) => [v.sha, key(v.model, v.version)]));
  const report: GcReport = {
    dryRun: options.dryRun ?? false,
    historyCutoff,
    graceCutoff,
    scanned: 0,
    kept: 0,
    young: 0,
    removed: [],
    bytesRemoved: 0,
    references: Object.fromEntries(references),
    missing: [],
  };
  const seen = new Set<string>();
  for await (const blob of artifacts.list()) {
    report.scanned++;
    seen.add(blob.sha256);
    if (references.has(blob.sha256)) {
      report.kept++;
      continue;
    }
    if (blob.modifiedAt >= graceCutoff) {
      report.young++;
      continue;
    }
    const was = shaToVersion.get(blob.sha256) ?? (runs.find((r) => r.sha === blob.sha256) ? 'training run model json' : 'unreferenced');
    if (!report.dryRun) await artifacts.delete(blob.sha256);
    report.removed.push({ sha256: blob.sha256, bytes: blob.bytes, was });
    report.bytesRemoved += blob.bytes;
  }
  for (const [sha, reasons] of references) if (!seen.has(sha)) report.missing.push({ sha256: sha, reasons });

  if (!report.dryRun) {
    const collected = report.removed.filter((r) => r.was.includes('@'));
    if (collected.length > 0) {
      await db.insert(modelVersionEvents).values(
        collected.map((r) => {
          const [model, version] = r.was.split('@');
          return {
            modelName: model,
            version: Number(version),
            action: 'artifact-collected',
            actor: options.actor ?? 'gc',
            reason: `garbage collection (history retention ${retentionDays} d)`,
            details: { sha256: r.sha256, bytes: r.bytes },
          };
        }),
      );
    }
  }
  return report;
}
