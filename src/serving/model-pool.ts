import { and, eq, inArray } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { modelAliases, routes } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import { getModelVersion } from '../registry/model-registry';
import type { InferencePool } from './inference-pool';
import type { ModelContract } from '../shared/model-contract';
import { assertSignatureMatchesContract, parseModelContract, servedOutputs } from './model-contract';
import { SERVING_ALIAS, type Route } from './routes';
import { choosesCandidate } from './traffic';
import { categoryGuardOf, type CategoryGuard } from '../ml/onnx/category-guard';

export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly contract: ModelContract;
  /** Its categorical inputs' training categories and unknown-category policies (none: no categorical text). */
  readonly categories?: CategoryGuard;
  readonly artifactSha256: string;
  readonly loadedAt: Date;
  /** This load of the version in the inference pool (unique, so a reload never meets a stale unload). */
  readonly key: string;
}

/** A version the database routes to but that could not be loaded; what served before keeps serving. */
export interface RefusedVersion {
  readonly version: number;
  readonly role: ServingRole;
  readonly error: string;
  readonly at: Date;
}

export type ServingRole = 'baseline' | 'candidate';

/** A model version held for one request; `release()` when done (a retired version is unloaded after its last lease). */
export interface ModelLease {
  readonly model: LoadedModel;
  release(): void;
}

/** Where one request goes: the version that answers, and the version that scores a mirrored copy. */
export interface RouteChoice {
  primary: ModelLease;
  role: ServingRole;
  shadow?: ModelLease;
}

/** The traffic split a replica applies (the database route, once its candidate is loaded). */
export interface ServedRoute {
  baseline: number;
  candidate: number;
  candidateWeight: number;
  shadow: boolean;
  revision: number;
}

export interface RefreshReport {
  loaded: { model: string; version: number; role: ServingRole; previousVersion: number | null }[];
  refused: { model: string; version: number; role: ServingRole; servingVersion: number | null; error: string }[];
  unloaded: string[];
}

export interface ModelPoolOptions {
  database: Database;
  artifacts: ArtifactStore;
  inference: InferencePool;
  logger: Logger;
  /** Models to serve; by default every model that has a production alias. */
  models?: string[];
  /** Period of the background routing refresh; 0 turns it off. Default 2000. */
  refreshMs?: number;
}

interface VersionEntry {
  model: LoadedModel;
  leases: number;
  retired: boolean;
}

interface ModelState {
  baseline: VersionEntry;
  candidate?: VersionEntry;
  route?: ServedRoute;
}

interface Target {
  production: number;
  route?: Route;
  /** The route's baseline is no longer production: ignored until the rollout fixes or clears it. */
  stale: boolean;
}

/**
 * The loaded versions of each served model and the traffic split between them, following the
 * database: the `production` alias (the baseline) and the model's row in `routes` (a candidate
 * with its weight, or shadow). A refresh loads what is new before routing to it — the artifact's
 * sha256 verified, a session created in every inference thread, the graph checked against the
 * stored contract — and retires what is no longer routed; requests that leased a retired version
 * finish on it, and it is unloaded after the last one. A version that fails to load is refused
 * and logged: the previous baseline keeps serving, a refused candidate gets no traffic.
 */
export class ModelPool {
  private readonly states = new Map<string, ModelState>();
  private readonly targets = new Map<string, Target>();
  /** model → version → why it could not be loaded. */
  private readonly refusals = new Map<string, Map<number, RefusedVersion>>();
  private loads = 0;
  /** Refreshes run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly staleWarned = new Map<string, number>();

  private constructor(private readonly options: ModelPoolOptions) {}

  /** Loads the current versions, then keeps them up to date in the background. */
  static async open(options: ModelPoolOptions): Promise<ModelPool> {
    const pool = new ModelPool(options);
    await pool.refresh();
    pool.scheduleRefresh();
    return pool;
  }

  /** Leases the model's baseline (its production version). */
  acquire(name: string): ModelLease | undefined {
    const state = this.states.get(name);
    return state && lease(state.baseline, this);
  }

  /** Leases a specific loaded version (baseline or candidate). */
  acquireVersion(name: string, version: number): ModelLease | undefined {
    const entry = this.entriesOf(name).find((e) => e.model.version === version);
    return entry && lease(entry, this);
  }

  /** Picks the version that answers this request by the model's route, sticky when a key is given. */
  choose(name: string, key?: string): RouteChoice | undefined {
    const state = this.states.get(name);
    if (!state) return undefined;
    const { baseline, candidate, route } = state;
    if (!candidate || !route) return { primary: lease(baseline, this), role: 'baseline' };
    const toCandidate = choosesCandidate({ model: name, candidate: route.candidate, weight: route.candidateWeight }, key);
    if (route.shadow) {
      return { primary: lease(baseline, this), role: 'baseline', shadow: toCandidate ? lease(candidate, this) : undefined };
    }
    return toCandidate ? { primary: lease(candidate, this), role: 'candidate' } : { primary: lease(baseline, this), role: 'baseline' };
  }

  /** The baseline of a served model. */
  get(name: string): LoadedModel | undefined {
    return this.states.get(name)?.baseline.model;
  }

  /** The baselines, by name. */
  list(): LoadedModel[] {
    return [...this.states.values()].map((s) => s.baseline.model).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The loaded versions of a model with their roles, baseline first. */
  versions(name: string): { model: LoadedModel; role: ServingRole }[] {
    const state = this.states.get(name);
    if (!state) return [];
    return [
      { model: state.baseline.model, role: 'baseline' as const },
      ...(state.candidate ? [{ model: state.candidate.model, role: 'candidate' as const }] : []),
    ];
  }

  route(name: string): ServedRoute | undefined {
    return this.states.get(name)?.route;
  }

  /** The database route of a model when this replica ignores it because it is stale. */
  staleRoute(name: string): Route | undefined {
    const target = this.targets.get(name);
    return target?.stale ? target.route : undefined;
  }

  /** Why the model's production target is not served, if it was refused. */
  refusal(name: string): RefusedVersion | undefined {
    const production = this.targets.get(name)?.production;
    return production === undefined ? undefined : this.refusals.get(name)?.get(production);
  }

  /** Every refused version of the model that the database still routes to. */
  refusalsOf(name: string): RefusedVersion[] {
    return [...(this.refusals.get(name)?.values() ?? [])];
  }

  /** Models the database says to serve that have no loaded version (the server is not ready). */
  unavailable(): string[] {
    return [...this.targets.keys()].filter((name) => !this.states.has(name)).sort();
  }

  /** Whether the database routes the model here at all (loaded or not). */
  isTarget(name: string): boolean {
    return this.targets.has(name);
  }

  /** Re-reads routing now; retries refused versions (an operator may have repaired the artifact). */
  refresh(): Promise<RefreshReport> {
    return this.enqueue(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.queue.catch(() => {});
    for (const name of [...this.states.keys()]) this.retireModel(name);
  }

  /** @internal called by a lease's release */
  released(entry: VersionEntry): void {
    if (entry.retired && entry.leases === 0) this.dispose(entry.model);
  }

  private entriesOf(name: string): VersionEntry[] {
    const state = this.states.get(name);
    if (!state) return [];
    return state.candidate ? [state.baseline, state.candidate] : [state.baseline];
  }

  private enqueue(retryRefused: boolean): Promise<RefreshReport> {
    const run = this.queue.then(() => this.sync(retryRefused));
    this.queue = run.catch(() => {});
    return run;
  }

  private scheduleRefresh(): void {
    const every = this.options.refreshMs ?? 2000;
    if (every <= 0 || this.closed) return;
    this.timer = setTimeout(() => {
      // The background refresh does not retry a refused version: that would log the same error
      // every period. An explicit refresh, or a new target, tries again.
      this.enqueue(false)
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'model routing refresh failed; serving unchanged'))
        .finally(() => this.scheduleRefresh());
    }, every);
    // A pending refresh alone must not keep the process alive.
    this.timer.unref();
  }

  private async sync(retryRefused: boolean): Promise<RefreshReport> {
    if (this.closed) throw new Error('the model pool is closed');
    const report: RefreshReport = { loaded: [], refused: [], unloaded: [] };
    const targets = await this.readTargets();
    this.targets.clear();
    for (const [name, target] of targets) this.targets.set(name, target);

    for (const [name, target] of targets) {
      const state = this.states.get(name);
      const baseline = await this.ensure(name, target.production, 'baseline', state, retryRefused, report);
      const route = target.route && !target.stale ? target.route : undefined;
      const candidate = route && (await this.ensure(name, route.candidateVersion, 'candidate', state, retryRefused, report));
      if (this.closed) {
        for (const entry of [baseline, candidate])
          if (entry && entry !== state?.baseline && entry !== state?.candidate) this.dispose(entry.model);
        throw new Error('the model pool is closed');
      }
      // A refused production version: the previous baseline keeps serving.
      const nextBaseline = baseline ?? state?.baseline;
      if (!nextBaseline) continue;
      const nextCandidate = candidate && candidate !== nextBaseline ? candidate : undefined;
      this.states.set(name, {
        baseline: nextBaseline,
        candidate: nextCandidate,
        route:
          nextCandidate && route
            ? {
                baseline: nextBaseline.model.version,
                candidate: route.candidateVersion,
                candidateWeight: route.candidateWeight,
                shadow: route.shadow,
                revision: route.revision,
              }
            : undefined,
      });
      for (const old of [state?.baseline, state?.candidate]) {
        if (old && old !== nextBaseline && old !== nextCandidate) this.retire(old);
      }
      this.warnIfStale(name, target);
      this.forgetRefusals(name, target);
    }
    for (const name of [...this.states.keys()]) {
      if (targets.has(name)) continue;
      this.retireModel(name);
      this.refusals.delete(name);
      report.unloaded.push(name);
      this.options.logger.info({ model: name }, 'model unloaded: it no longer has a production alias');
    }
    return report;
  }

  /** The loaded entry for a version, loading it when needed; undefined when it is (or stays) refused. */
  private async ensure(
    name: string,
    version: number,
    role: ServingRole,
    state: ModelState | undefined,
    retryRefused: boolean,
    report: RefreshReport,
  ): Promise<VersionEntry | undefined> {
    const existing = [state?.baseline, state?.candidate].find((entry) => entry?.model.version === version);
    if (existing) {
      this.refusals.get(name)?.delete(version);
      return existing;
    }
    if (!retryRefused && this.refusals.get(name)?.has(version)) return undefined;
    const previous = role === 'baseline' ? state?.baseline : state?.candidate;
    try {
      const model = await this.load(name, version);
      this.refusals.get(name)?.delete(version);
      report.loaded.push({ model: name, version, role, previousVersion: previous?.model.version ?? null });
      this.options.logger.info({ model: name, version, role, previousVersion: previous?.model.version ?? null }, 'model version loaded');
      return { model, leases: 0, retired: false };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      let refused = this.refusals.get(name);
      if (!refused) this.refusals.set(name, (refused = new Map<number, RefusedVersion>()));
      refused.set(version, { version, role, error: message, at: new Date() });
      const servingVersion = state?.baseline.model.version ?? null;
      report.refused.push({ model: name, version, role, servingVersion, error: message });
      this.options.logger.error(
        { model: name, version, role, servingVersion, err: error },
        role === 'baseline'
          ? 'refused to load model version; the previous version keeps serving'
          : 'refused to load candidate version; the baseline keeps all traffic',
      );
      return undefined;
    }
  }

  /** Production alias and route of every served model. */
  private async readTargets(): Promise<Map<string, Target>> {
    const { models } = this.options;
    const db = this.options.database.db;
    const isServing = eq(modelAliases.alias, SERVING_ALIAS);
    const [aliases, routeRows] = await Promise.all([
      db
        .select({ name: modelAliases.modelName, version: modelAliases.version })
        .from(modelAliases)
        .where(models ? and(isServing, inArray(modelAliases.modelName, models)) : isServing),
      models ? db.select().from(routes).where(inArray(routes.modelName, models)) : db.select().from(routes),
    ]);
    const byModel = new Map(routeRows.map((r) => [r.modelName, r]));
    return new Map(
      aliases.map(({ name, version }) => {
        const route = byModel.get(name);
        return [name, { production: version, route, stale: route !== undefined && route.baselineVersion !== version }];
      }),
    );
  }

  private async load(name: string, version: number): Promise<LoadedModel> {
    const row = await getModelVersion(this.options.database.db, name, version);
    if (!row) throw new Error(`version ${version} of "${name}" is routed to but not registered`);
    const contract = parseModelContract(row.contract);
    // get() verifies the bytes against their sha256: a corrupted artifact never loads.
    const bytes = await this.options.artifacts.get(row.artifactSha256);
    const key = `${name}@${version}#${++this.loads}`;
    const outputs = servedOutputs(contract).map(({ name, type, shape }) => ({ name, type, width: shape[1] }));
    const signature = await this.options.inference.load(key, bytes, { inputs: contract.inputs, outputs });
    try {
      assertSignatureMatchesContract(signature, contract);
    } catch (error) {
      this.options.inference.unload(key);
      throw error;
    }
    return { name, version, contract, categories: categoryGuardOf(bytes), artifactSha256: row.artifactSha256, loadedAt: new Date(), key };
  }

  private warnIfStale(name: string, target: Target): void {
    if (!target.stale || !target.route) {
      this.staleWarned.delete(name);
      return;
    }
    if (this.staleWarned.get(name) === target.route.revision) return;
    this.staleWarned.set(name, target.route.revision);
    this.options.logger.warn(
      { model: name, production: target.production, route: target.route },
      'ignoring a stale route: its baseline is no longer the production version; all traffic goes to production',
    );
  }

  /** Refusals of versions the database no longer routes to are history, not state. */
  private forgetRefusals(name: string, target: Target): void {
    const refused = this.refusals.get(name);
    if (!refused) return;
    const wanted = new Set([target.production, ...(target.route && !target.stale ? [target.route.candidateVersion] : [])]);
    for (const version of [...refused.keys()]) if (!wanted.has(version)) refused.delete(version);
  }

  private retireModel(name: string): void {
    for (const entry of this.entriesOf(name)) this.retire(entry);
    this.states.delete(name);
  }

  /** Stops routing to an entry; its sessions are freed once no request holds it. */
  private retire(entry: VersionEntry): void {
    if (entry.retired) return;
    entry.retired = true;
    if (entry.leases === 0) this.dispose(entry.model);
  }

  private dispose(model: LoadedModel): void {
    this.options.inference.unload(model.key);
    this.options.logger.debug({ model: model.name, version: model.version }, 'model version unloaded');
  }
}

function lease(entry: VersionEntry, pool: ModelPool): ModelLease {
  entry.leases++;
  return new Lease(entry, pool);
}

class Lease implements ModelLease {
  private released = false;

  constructor(
    private readonly entry: VersionEntry,
    private readonly pool: ModelPool,
  ) {}

  get model(): LoadedModel {
    return this.entry.model;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.entry.leases--;
    this.pool.released(this.entry);
  }
}
