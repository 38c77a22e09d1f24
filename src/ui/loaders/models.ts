import type { Db } from '../../db/database';
import { describeVersion, diffVersions, type VersionDiff, type VersionLineage } from '../../registry/lineage';
import { aliasAt, type AliasAtTime, aliasHistoryOf, type AliasMove } from '../../registry/aliases';
import { getModelVersion, listModels, listModelVersions, type ModelSummary, type ModelVersion } from '../../registry/model-registry';
import type { TemporalLinks } from '../links';

export async function loadModels(db: Db): Promise<ModelSummary[]> {
  return listModels(db);
}

export interface ModelDetail {
  name: string;
  versions: ModelVersion[];
  moves: AliasMove[];
  aliases: Record<string, number>;
  /** The answer to "what served at T" when a time was asked. */
  servedAt?: AliasAtTime;
}

export async function loadModel(db: Db, name: string, at?: Date): Promise<ModelDetail | undefined> {
  const [models, versions, moves] = await Promise.all([listModels(db), listModelVersions(db, name), aliasHistoryOf(db, name)]);
  const summary = models.find((m) => m.name === name);
  if (!summary) return undefined;
  const servedAt = at && !Number.isNaN(at.getTime()) ? await aliasAt(db, { model: name, at }) : undefined;
  return { name, versions, moves, aliases: summary.aliases, servedAt };
}

export async function loadLineage(db: Db, name: string, version: number, links: TemporalLinks): Promise<VersionLineage | undefined> {
  const row = await getModelVersion(db, name, version);
  return row && describeVersion(db, row, { temporalUi: links.ui ?? '', namespace: links.namespace });
}

export async function loadDiff(db: Db, name: string, a: number, b: number, links: TemporalLinks): Promise<VersionDiff | undefined> {
  const [x, y] = await Promise.all([loadLineage(db, name, a, links), loadLineage(db, name, b, links)]);
  return x && y ? diffVersions(x, y) : undefined;
}
