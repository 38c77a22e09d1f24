import { afterEach, describe, expect, it } from 'vitest';
import { setAlias } from '../../src/registry/aliases';
import { archiveVersion } from '../../src/registry/version-lifecycle';
import { defaultRolloutCandidate } from '../../src/registry/rollout-candidate';
import { drivers, openTestRegistry, registerTiny, type TestRegistry } from './registry-fixtures';

/** The version `keel rollouts start <model>` picks when none is named, on the real registry tables. */
describe.each(drivers)('defaultRolloutCandidate (%s)', (driver) => {
  let registry: TestRegistry | undefined;
  afterEach(async () => {
    await registry?.close();
    registry = undefined;
  });

  it('picks the newest active version newer than production, skipping archived ones', async () => {
    registry = await openTestRegistry(driver);
    const { db } = registry.database;
    for (const seed of [1, 2, 3, 4]) await registerTiny(registry, 'churn', seed);
    await setAlias(db, { model: 'churn', alias: 'production', version: 2, actor: 'user:test', reason: 'first' });
    expect(await defaultRolloutCandidate(db, 'churn')).toEqual({ version: 4, production: 2 });

    await archiveVersion(db, { model: 'churn', version: 4, actor: 'user:test', reason: 'bad features' });
    expect(await defaultRolloutCandidate(db, 'churn')).toEqual({ version: 3, production: 2 });

    await setAlias(db, { model: 'churn', alias: 'production', version: 3, actor: 'user:test', reason: 'promoted' });
    await expect(defaultRolloutCandidate(db, 'churn')).rejects.toThrow(
      'model "churn" has no active version newer than production (v3); register one, or name an older version: keel rollouts start churn <version>',
    );
  });

  it('takes the newest version of a model with no production, and names an unknown model', async () => {
    registry = await openTestRegistry(driver);
    const { db } = registry.database;
    await registerTiny(registry, 'fresh', 1);
    await registerTiny(registry, 'fresh', 2);
    expect(await defaultRolloutCandidate(db, 'fresh')).toEqual({ version: 2, production: null });
    await expect(defaultRolloutCandidate(db, 'nothing-here')).rejects.toThrow(
      'model "nothing-here" has no registered versions (keel models list shows the models)',
    );
  });
});
