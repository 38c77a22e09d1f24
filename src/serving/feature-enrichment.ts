import type { Db } from '../db/database';
import { OnlineStore } from '../features/online-store';
import { entityKey } from '../features/point-in-time';
import type { ContractFeatureView, ModelContract } from '../shared/model-contract';
import { type Instance, RequestError } from './predict';

/**
 * Fills a model's feature-store inputs from the online store before the request is validated, so
 * the prediction log records the values actually used. Per instance and view:
 * - a feature the request sends itself (an explicit override, for testing) is kept as sent;
 * - otherwise the view's join keys must be in the request (400 naming the key), and the entity's
 *   values are read from the online store;
 * - a missing entity, values of another view version than the model was trained with, or values
 *   whose newest event is older than the view's TTL before their as-of time follow the view's
 *   policy: `default` (the feature's default, else 0), `nan` (null: the model's imputer decides)
 *   or `reject` (422 naming the entity and the view).
 * Join keys the model does not take as inputs are removed after the lookup.
 */
export class FeatureEnricher {
  private readonly store: OnlineStore;

  /** `checkMs`: how often each view's cache looks for a newer materialisation (0: every request). */
  constructor(db: Db, checkMs?: number) {
    this.store = new OnlineStore(db, checkMs);
  }

  async enrich(contract: ModelContract, value: unknown): Promise<unknown> {
    const views = contract.featureViews;
    if (!views || !Array.isArray(value)) return value;
    const instances = value.map((instance: unknown) =>
      instance && typeof instance === 'object' && !Array.isArray(instance) ? { ...(instance as Instance) } : instance,
    );
    const inputs = new Set(contract.inputs.map((i) => i.name));
    for (const view of views) await this.fill(view, instances);
    for (const view of views) {
      for (const key of view.joinKeys) {
        if (inputs.has(key)) continue;
        for (const instance of instances) if (instance && typeof instance === 'object') delete (instance as Instance)[key];
      }
    }
    return instances;
  }

  private async fill(view: ContractFeatureView, instances: unknown[]): Promise<void> {
    const wanted: { instance: Instance; key: string; index: number }[] = [];
    instances.forEach((instance, index) => {
      if (!instance || typeof instance !== 'object') return;
      const row = instance as Instance;
      if (view.features.every((f) => Object.hasOwn(row, f))) return;
      for (const key of view.joinKeys) {
        if (row[key] === undefined || row[key] === null || row[key] === '') {
          throw new RequestError(
            400,
            `instances[${index}].${key} is missing: it is the entity key of feature view "${view.view}" (or send its features ${view.features.join(', ')} yourself)`,
          );
        }
      }
      wanted.push({ instance: row, key: entityKey(view.joinKeys.map((k) => row[k])), index });
    });
    if (wanted.length === 0) return;
    const found = await this.store.get(
      view.view,
      wanted.map((w) => w.key),
    );
    wanted.forEach(({ instance, key, index }, i) => {
      const online = found[i];
      const usable =
        online && online.version === view.version && !(view.ttlMs !== undefined && !(online.asOf - online.eventTime <= view.ttlMs));
      if (!usable && view.onMissing === 'reject') {
        const why = !online
          ? 'has no values'
          : online.version !== view.version
            ? `has values of another view version (${online.version.slice(0, 12)})`
            : 'is stale (older than the TTL)';
        throw new RequestError(
          422,
          `instances[${index}]: entity ${JSON.stringify(key.split('\u0001').join('/'))} ${why} in feature view "${view.view}"`,
        );
      }
      for (const feature of view.features) {
        if (Object.hasOwn(instance, feature)) continue;
        const value = usable ? online.values[feature] : undefined;
        instance[feature] = value ?? (view.onMissing === 'default' ? (view.defaults[feature] ?? 0) : null);
      }
    });
  }
}
