import type { Db } from '../db/database';
import { getAliases, listModelVersions } from './model-registry';
import { RegistryError } from './names';

export interface DefaultCandidate {
  version: number;
  /** The production version the candidate would replace; null when the model has none yet. */
  production: number | null;
}

/**
 * The version `keel rollouts start <model>` rolls out when none is named: the newest active
 * version that is not in production. Only versions newer than production qualify: an older one
 * would be a downgrade, which a person should ask for by number, never get by default. Archived
 * and deleted versions are not promotable, so they are skipped.
 */
export async function defaultRolloutCandidate(db: Db, model: string): Promise<DefaultCandidate> {
  const versions = await listModelVersions(db, model);
  if (versions.length === 0) throw new RegistryError(`model "${model}" has no registered versions (keel models list shows the models)`);
  const production = (await getAliases(db, model)).production ?? null;
  const newest = versions.find((v) => v.status === 'active' && v.version !== production && (production === null || v.version > production));
  if (!newest) {
    throw new RegistryError(
      `model "${model}" has no active version newer than production (v${production}); register one, or name an older version: keel rollouts start ${model} <version>`,
    );
  }
  return { version: newest.version, production };
}
