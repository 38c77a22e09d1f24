import { mulberry32 } from './prng';
import { tpeSuggest, type Observation } from './tpe';
import type { ParamSet, SearchDimension } from './search-space';

/**
 * A TPE study with pruning, driven by the caller's `evaluate` (in the pipeline: a training
 * activity). Pure orchestration: the trials, their order and every pruning decision follow from
 * the seed and the losses `evaluate` returned, so a workflow replaying recorded results plans
 * exactly the same trials.
 *
 * Trials run in waves of `concurrency`. Every trial of a wave is suggested from the trials of the
 * waves before it (and the warm-start observations), each with its own generator, so the wave's
 * trials differ and do not depend on which finishes first.
 *
 * Pruning (`median`): before its full budget, a trial is trained at each rung budget (maxBudget /
 * eta^k, smallest first); its validation loss at a rung is a point of its learning curve over the
 * budget. When it is worse than the median of the losses that earlier trials reached at the same
 * rung (and at least `minTrials` did), the trial stops there: the median stopping rule.
 */

export interface StudyOptions {
  space: Record<string, SearchDimension>;
  trials: number;
  concurrency: number;
  seed: number;
  startupTrials: number;
  candidates: number;
  pruning: 'none' | 'median';
  /** Rungs below the full budget (each eta times smaller than the next). */
  rungs: number;
  eta: number;
  /** Earlier trials needed at a rung before it prunes anything. */
  minTrials: number;
  /** The budget parameter (trees, iterations) and its value when the space does not set it. */
  budget?: { name: string; max: number };
  /** Trials of an earlier study of the same model: they inform the estimators from the start. */
  warmStart: readonly Observation[];
}

export interface StudyTrial {
  id: number;
  params: ParamSet;
  /** Loss at the last budget trained (the full one unless pruned). */
  loss: number;
  pruned: boolean;
  /** Loss per rung reached, smallest budget first. */
  rungLosses: number[];
}

/** `evaluate(params, trial)` trains `params` (the budget parameter already set) and returns its validation loss. */
export type Evaluate = (params: ParamSet, trial: string) => Promise<number>;

/** The trial's own stream, mixed from the study seed and the trial number. */
export function trialGenerator(seed: number, trial: number): () => number {
  return mulberry32(Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) ^ Math.imul(trial + 1, 0xc2b2ae35));
}

/** Budgets of the rungs below the full one, smallest first (never below 1, never repeated). */
export function rungBudgets(fullBudget: number, eta: number, rungs: number): number[] {
  const budgets: number[] = [];
  for (let k = rungs; k >= 1; k--) {
    const budget = Math.max(1, Math.round(fullBudget / eta ** k));
    if (budget < fullBudget && !budgets.includes(budget)) budgets.push(budget);
  }
  return budgets;
}

/** Median stopping rule on losses (lower is better): stop when worse than the median of `earlier`. */
export function medianStops(loss: number, earlier: readonly number[], minTrials: number): boolean {
  const finite = earlier.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length < Math.max(1, minTrials)) return false;
  const mid = finite.length >> 1;
  const median = finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
  return !(loss <= median);
}

export async function runTpeStudy(options: StudyOptions, evaluate: Evaluate): Promise<StudyTrial[]> {
  const done: StudyTrial[] = [];
  // Rung losses by rung index, of the trials of earlier waves.
  const rungHistory: number[][] = [];
  for (let start = 0; start < options.trials; start += options.concurrency) {
    const observed: Observation[] = [...options.warmStart, ...done.map((t) => ({ params: t.params, loss: t.loss, pruned: t.pruned }))];
    const ids = Array.from({ length: Math.min(options.concurrency, options.trials - start) }, (_, i) => start + i);
    const wave = await Promise.all(
      ids.map((id) =>
        runTrial(id, tpeSuggest(options.space, observed, trialGenerator(options.seed, id), options), options, rungHistory, evaluate),
      ),
    );
    for (const trial of wave) {
      trial.rungLosses.forEach((loss, rung) => (rungHistory[rung] ??= []).push(loss));
      done.push(trial);
    }
  }
  return done;
}

async function runTrial(
  id: number,
  params: ParamSet,
  options: StudyOptions,
  rungHistory: readonly number[][],
  evaluate: Evaluate,
): Promise<StudyTrial> {
  const budgetName = options.budget?.name;
  const fullBudget = budgetName === undefined ? undefined : (params[budgetName] ?? options.budget!.max);
  const rungs = options.pruning === 'median' && fullBudget !== undefined ? rungBudgets(fullBudget, options.eta, options.rungs) : [];
  const rungLosses: number[] = [];
  for (const [rung, budget] of rungs.entries()) {
    const loss = await evaluate({ ...params, [budgetName!]: budget }, `trial-${id}-rung-${rung}`);
    rungLosses.push(loss);
    if (medianStops(loss, rungHistory[rung] ?? [], options.minTrials)) return { id, params, loss, pruned: true, rungLosses };
  }
  const loss = await evaluate(fullBudget === undefined ? params : { ...params, [budgetName!]: fullBudget }, `trial-${id}`);
  return { id, params, loss, pruned: false, rungLosses };
}

/** The best complete trial (ties: the earliest); undefined when every trial was pruned or failed. */
export function bestTrial(trials: readonly StudyTrial[]): StudyTrial | undefined {
  let best: StudyTrial | undefined;
  for (const t of trials) if (!t.pruned && Number.isFinite(t.loss) && (!best || t.loss < best.loss)) best = t;
  return best;
}
