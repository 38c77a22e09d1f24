import type { ParamSet, SearchDimension } from './search-space';

/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011), the sampler behind Optuna's default:
 * the trials seen so far are split into the best `γ(n)` ("good") and the rest ("bad"); each
 * parameter gets a Parzen estimator (a mixture of truncated Gaussians around the observed values,
 * plus a broad prior) over each group, `l(x)` and `g(x)`, and the next value is the one of
 * `candidates` draws from `l` that maximises `l(x) / g(x)`. Parameters are modelled independently
 * (Optuna's `multivariate=False`). Pure and driven by the caller's generator, so the workflow can
 * plan with it and replay the same trials.
 */

/** A finished (or pruned) trial: its parameters and its loss (lower is better). */
export interface Observation {
  params: ParamSet;
  loss: number;
  /** Stopped at a rung: ranked after every complete trial, whatever its loss. */
  pruned?: boolean;
}

export interface TpeOptions {
  /** Trials sampled at random before the estimators take over. */
  startupTrials: number;
  /** Draws from `l(x)` per parameter, of which the best ratio is taken. */
  candidates: number;
  /** Weight of the prior component (a broad Gaussian over the whole range) in each estimator. */
  priorWeight?: number;
}

/** Optuna's default split: the best 10 %, rounded up, at most 25. */
export function goodCount(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** The next configuration to try, given what was observed; `next` is a seeded uniform [0,1) source. */
export function tpeSuggest(
  space: Record<string, SearchDimension>,
  observations: readonly Observation[],
  next: () => number,
  options: TpeOptions,
): ParamSet {
  const names = Object.keys(space).sort();
  const usable = observations.filter((o) => Number.isFinite(o.loss) || o.pruned);
  if (usable.length < Math.max(1, options.startupTrials)) {
    return Object.fromEntries(names.map((name) => [name, sampleUniform(space[name], next)]));
  }
  const ranked = usable
    .map((o, index) => ({ o, index }))
    .sort((a, b) => Number(!!a.o.pruned) - Number(!!b.o.pruned) || lossOrder(a.o.loss, b.o.loss) || a.index - b.index)
    .map(({ o }) => o);
  const nGood = goodCount(ranked.length);
  const good = ranked.slice(0, nGood);
  const bad = ranked.slice(nGood);
  const priorWeight = options.priorWeight ?? 1;
  const config: ParamSet = {};
  for (const name of names) {
    const dimension = space[name];
    const valuesOf = (group: Observation[]) =>
      group.map((o) => o.params[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    config[name] = Array.isArray(dimension)
      ? suggestCategorical(dimension, valuesOf(good), valuesOf(bad), next, options.candidates, priorWeight)
      : suggestNumeric(dimension, valuesOf(good), valuesOf(bad), next, options.candidates, priorWeight);
  }
  return config;
}

function lossOrder(a: number, b: number): number {
  const x = Number.isNaN(a) ? Number.POSITIVE_INFINITY : a;
  const y = Number.isNaN(b) ? Number.POSITIVE_INFINITY : b;
  return x === y ? 0 : x < y ? -1 : 1;
}

/** A uniform draw over the dimension (log-uniform on a log scale), as random search draws. */
export function sampleUniform(dimension: SearchDimension, next: () => number): number {
  if (Array.isArray(dimension)) return dimension[Math.floor(next() * dimension.length)];
  const { min, max, scale, integer } = dimension;
  const u = next();
  const value = scale === 'log' ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  return integer ? Math.round(value) : value;
}

// ---------------------------------------------------------------------------------------------
// Categorical: a list of values. As Optuna does, each observation is a kernel that puts 1 on its
// value plus priorWeight / kernels on every value; the prior kernel is uniform.
// ---------------------------------------------------------------------------------------------

function suggestCategorical(
  choices: number[],
  good: number[],
  bad: number[],
  next: () => number,
  candidates: number,
  priorWeight: number,
): number {
  const l = categoricalMixture(choices, good, priorWeight);
  const g = categoricalMixture(choices, bad, priorWeight);
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    const index = drawIndex(l, next());
    const score = Math.log(l[index]) - Math.log(g[index]);
    if (score > bestScore) {
      bestScore = score;
      best = index;
    }
  }
  return choices[best];
}

/** The probability of each choice under the mixture of the observations' kernels and the prior. */
function categoricalMixture(choices: number[], values: number[], priorWeight: number): number[] {
  const k = choices.length;
  const observed = values.map((v) => choices.indexOf(v)).filter((i) => i >= 0);
  const kernels = observed.length + 1;
  const smoothing = priorWeight / kernels;
  const total = observed.length + priorWeight;
  const p = choices.map(() => priorWeight / k / total);
  for (const index of observed) {
    for (let c = 0; c < k; c++) p[c] += (Number(c === index) + smoothing) / (1 + k * smoothing) / total;
  }
  return p;
}

function drawIndex(weights: number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += weights[i];
    if (u < acc) return i;
  }
  return weights.length - 1;
}

// ---------------------------------------------------------------------------------------------
// Numeric: a mixture of Gaussians truncated to the range, in log space on a log scale
// ---------------------------------------------------------------------------------------------

interface Mixture {
  mus: number[];
  sigmas: number[];
  weights: number[];
  low: number;
  high: number;
}

function suggestNumeric(
  dimension: Exclude<SearchDimension, number[]>,
  good: number[],
  bad: number[],
  next: () => number,
  candidates: number,
  priorWeight: number,
): number {
  const log = dimension.scale === 'log';
  const toInternal = (v: number) => (log ? Math.log(v) : v);
  // An integer owns the half-unit either side of it, so the end values are as likely as the others.
  const pad = dimension.integer && !log ? 0.5 : 0;
  const low = toInternal(dimension.min) - pad;
  const high = toInternal(dimension.max) + pad;
  const inRange = (v: number) => v >= dimension.min && v <= dimension.max;
  const l = parzen(good.filter(inRange).map(toInternal), low, high, priorWeight);
  const g = parzen(bad.filter(inRange).map(toInternal), low, high, priorWeight);
  let best = Number.NaN;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < candidates; c++) {
    const x = sampleMixture(l, next);
    const score = logDensity(l, x) - logDensity(g, x);
    if (score > bestScore) {
      bestScore = score;
      best = x;
    }
  }
  const value = log ? Math.exp(best) : best;
  const clamped = Math.min(dimension.max, Math.max(dimension.min, dimension.integer ? Math.round(value) : value));
  return clamped;
}

/**
 * The estimator over `points` in [low, high]: one Gaussian per point, its width the larger gap to
 * a neighbour (hyperopt's rule; the outermost use their inner neighbour only, Optuna's
 * `consider_endpoints=False`), clipped to [range / min(100, kernels + 1), range], and the prior:
 * a Gaussian at the middle as wide as the range.
 */
function parzen(points: number[], low: number, high: number, priorWeight: number): Mixture {
  const range = high - low;
  const prior = (low + high) / 2;
  const all = [...points.map((mu) => ({ mu, prior: false })), { mu: prior, prior: true }].sort(
    (a, b) => a.mu - b.mu || Number(a.prior) - Number(b.prior),
  );
  const minSigma = range / Math.min(100, all.length + 1);
  const edges = [low, ...all.map((p) => p.mu), high];
  const sigmas = all.map((p, i) => {
    if (p.prior) return range;
    let left = edges[i + 1] - edges[i];
    let right = edges[i + 2] - edges[i + 1];
    if (all.length >= 2 && i === 0) left = 0;
    if (all.length >= 2 && i === all.length - 1) right = 0;
    return Math.min(range, Math.max(minSigma, left, right));
  });
  const raw = all.map((p) => (p.prior ? priorWeight : 1));
  const total = raw.reduce((a, b) => a + b, 0);
  return { mus: all.map((p) => p.mu), sigmas, weights: raw.map((w) => w / total), low, high };
}

function sampleMixture(m: Mixture, next: () => number): number {
  const k = drawIndex(m.weights, next());
  const mu = m.mus[k];
  const sigma = m.sigmas[k];
  // Inverse CDF over the truncated interval: one draw, no rejection loop.
  const a = normalCdf((m.low - mu) / sigma);
  const b = normalCdf((m.high - mu) / sigma);
  const u = a + next() * (b - a);
  const x = mu + sigma * normalQuantile(Math.min(1 - 1e-12, Math.max(1e-12, u)));
  return Math.min(m.high, Math.max(m.low, x));
}

function logDensity(m: Mixture, x: number): number {
  let density = 0;
  for (let i = 0; i < m.mus.length; i++) {
    const sigma = m.sigmas[i];
    const z = (x - m.mus[i]) / sigma;
    const mass = normalCdf((m.high - m.mus[i]) / sigma) - normalCdf((m.low - m.mus[i]) / sigma);
    density += (m.weights[i] * Math.exp(-0.5 * z * z)) / (sigma * Math.sqrt(2 * Math.PI) * Math.max(mass, 1e-12));
  }
  return Math.log(Math.max(density, 1e-300));
}

/** Φ(z) through erf (Abramowitz and Stegun 7.1.26, absolute error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Φ⁻¹(p), Acklam's rational approximation (relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155211573];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
