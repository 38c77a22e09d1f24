import { and, eq, inArray } from 'drizzle-orm';
import { InferenceSession } from 'onnxruntime-node';
import type { Logger } from 'pino';
import type { Database } from '../db/database';
import { modelAliases } from '../db/schema';
import type { ArtifactStore } from '../registry/artifact-store';
import { getModelVersion } from '../registry/model-registry';
import { assertSessionMatchesContract, type ModelContract, parseModelContract } from './model-contract';

/** The alias the server routes to. Routing lives in the database, so every replica agrees. */
export const SERVING_ALIAS = 'production';

export interface LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly contract: ModelContract;
  readonly artifactSha256: string;
  readonly session: InferenceSession;
  readonly loadedAt: Date;
}

/** A version the alias points to but that could not be loaded; the previous one keeps serving. */
export interface RefusedVersion {
  readonly version: number;
  readonly error: string;
  readonly at: Date;
}

/** A model held for one request; `release()` when done (a retired session is freed after its last lease). */
export interface ModelLease {
  readonly model: LoadedModel;
  release(): void;
}

export interface RefreshReport {
  loaded: { model: string; version: number; previousVersion: number | null }[];
  refused: { model: string; version: number; servingVersion: number | null; error: string }[];
  unloaded: string[];
}

export interface ModelPoolOptions {
  database: Database;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Models to serve; by default every model that has a production alias. */
  models?: string[];
  /** Period of the background routing refresh; 0 turns it off. Default 2000. */
  refreshMs?: number;
}

interface Entry {
  model: LoadedModel;
  leases: number;
  retired: boolean;
}

/**
 * The loaded production version of each served model. A refresh re-reads the aliases and
 * hot-swaps: the new session is fully created and checked before it replaces the old one, and
 * requests that leased the old one finish on it. A version that fails to load (corrupt artifact,
 * bad contract, graph mismatch) is refused and logged; the previous version keeps serving.
 */
export class ModelPool {
  private readonly entries = new Map<string, Entry>();
  private readonly refusals = new Map<string, RefusedVersion>();
  /** Refreshes run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly options: ModelPoolOptions) {}

  /** Loads the current production versions, then keeps them up to date in the background. */
  static async open(options: ModelPoolOptions): Promise<ModelPool> {
    const pool = new ModelPool(options);
    await pool.refresh();
    pool.scheduleRefresh();
    return pool;
  }

  acquire(name: string): ModelLease | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    entry.leases++;
    let released = false;
    return {
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.retired && entry.leases === 0) this.dispose(entry.model);
      },
    };
  }

  get(name: string): LoadedModel | undefined {
    return this.entries.get(name)?.model;
  }

  list(): LoadedModel[] {
    return [...this.entries.values()].map((e) => e.model).sort((a, b) => a.name.localeCompare(b.name));
  }

  refusal(name: string): RefusedVersion | undefined {
    return this.refusals.get(name);
  }

  /** Re-reads routing now; retries refused versions (an operator may have repaired the artifact). */
  refresh(): Promise<RefreshReport> {
    return this.enqueue(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.queue.catch(() => {});
    for (const name of [...this.entries.keys()]) this.retire(name);
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
      // every period. An explicit refresh, or a new alias target, tries again.
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
    const routing = await this.readRouting();
    for (const [name, version] of routing) {
      const serving = this.entries.get(name)?.model.version ?? null;
      if (serving === version) {
        this.refusals.delete(name);
        continue;
      }
      if (!retryRefused && this.refusals.get(name)?.version === version) continue;
      try {
        const model = await this.load(name, version);
        this.retire(name);
        this.entries.set(name, { model, leases: 0, retired: false });
        this.refusals.delete(name);
        report.loaded.push({ model: name, version, previousVersion: serving });
        this.options.logger.info({ model: name, version, previousVersion: serving }, 'model version loaded');
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.refusals.set(name, { version, error: message, at: new Date() });
        report.refused.push({ model: name, version, servingVersion: serving, error: message });
        this.options.logger.error(
          { model: name, version, servingVersion: serving, err: error },
          'refused to load model version; the previous version keeps serving',
        );
      }
    }
    for (const name of [...this.entries.keys()]) {
      if (routing.has(name)) continue;
      this.retire(name);
      report.unloaded.push(name);
      this.options.logger.info({ model: name }, 'model unloaded: it no longer has a production alias');
    }
    return report;
  }

  /** model name → version of its production alias, for the served models. */
  private async readRouting(): Promise<Map<string, number>> {
    const { models } = this.options;
    const isServing = eq(modelAliases.alias, SERVING_ALIAS);
    const rows = await this.options.database.db
      .select({ name: modelAliases.modelName, version: modelAliases.version })
      .from(modelAliases)
      .where(models ? and(isServing, inArray(modelAliases.modelName, models)) : isServing);
    return new Map(rows.map((r) => [r.name, r.version]));
  }

  private async load(name: string, version: number): Promise<LoadedModel> {
    const row = await getModelVersion(this.options.database.db, name, version);
    if (!row) throw new Error(`the ${SERVING_ALIAS} alias points to version ${version}, which is not registered`);
    const contract = parseModelContract(row.contract);
    const bytes = await this.options.artifacts.get(row.artifactSha256);
    const session = await InferenceSession.create(bytes);
    try {
      assertSessionMatchesContract(session, contract);
    } catch (error) {
      await session.release();
      throw error;
    }
    return { name, version, contract, artifactSha256: row.artifactSha256, session, loadedAt: new Date() };
  }

  /** Stops routing to a model's current entry; its session is freed once no request holds it. */
  private retire(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    this.entries.delete(name);
    entry.retired = true;
    if (entry.leases === 0) this.dispose(entry.model);
  }

  private dispose(model: LoadedModel): void {
    model.session.release().catch((error: unknown) => {
      this.options.logger.warn({ model: model.name, version: model.version, err: error }, 'releasing a session failed');
    });
  }
}
