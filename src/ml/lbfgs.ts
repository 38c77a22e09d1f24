/**
 * Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, Numerical
 * Optimization, 2nd ed., algorithms 7.4 and 7.5), with a backtracking Armijo line search, which
 * suffices for the convex objectives here. No randomness and a fixed order of operations, so the
 * same input gives bit-identical output.
 */

/** Writes the gradient at `x` into `gradient` and returns the objective value. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  maxIterations: number;
  /**
   * Converged when every gradient component is at most this in absolute value, or when an
   * iteration lowers the objective by less than float64 can resolve (see `stallDecrease`).
   */
  gradientTolerance: number;
  /**
   * Called after each iteration with the accepted point `x` and its objective value. It comes
   * right after the objective's evaluation at `x` (no other evaluation in between), so an
   * objective may keep by-products of its last evaluation for it to read. `x` is the optimiser's
   * own buffer: read it, never modify or keep it.
   */
  onIteration?: (iteration: number, value: number, x: Float64Array) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  iterations: number;
  converged: boolean;
  /** The objective after each iteration (not including the starting point). */
  valueHistory: number[];
}

/** Correction pairs kept: the usual choice; more rarely pays for its cost. */
const correctionPairs = 10;
const armijoSlope = 1e-4;
const maxBacktracks = 50;
/**
 * A relative decrease below this is rounding noise: near the optimum the objective's changes
 * (about ‖g‖²) vanish below float64 resolution before a small gradient tolerance is met, and
 * further iterations would only spin. Same rule and value as scipy's L-BFGS-B used by
 * scikit-learn (ftol = 64 ε).
 */
const stallDecrease = 64 * Number.EPSILON;

export function minimizeLbfgs(objective: Objective, start: Float64Array, options: LbfgsOptions): LbfgsResult {
  const { maxIterations, gradientTolerance, onIteration } = options;
  const n = start.length;
  let x = Float64Array.from(start);
  let gradient = new Float64Array(n);
  let value = objective(x, gradient);
  if (!Number.isFinite(value)) throw new Error(`the objective is not finite at the starting point (${value})`);

  let candidate = new Float64Array(n);
  let candidateGradient = new Float64Array(n);
  const direction = new Float64Array(n);
  const corrections = new CorrectionHistory(n, correctionPairs);
  const valueHistory: number[] = [];
  let converged = maxAbs(gradient) <= gradientTolerance;

  while (!converged && valueHistory.length < maxIterations) {
    corrections.applyInverseHessian(gradient, direction);
    for (let j = 0; j < n; j++) direction[j] = -direction[j];
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction (only through rounding): fall back to steepest descent.
      corrections.clear();
      for (let j = 0; j < n; j++) direction[j] = -gradient[j];
      slope = -dot(gradient, gradient);
    }
    // Without curvature information the first step has no natural scale; start at unit length.
    let step = corrections.size === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;

    let candidateValue = Number.NaN;
    let accepted = false;
    for (let backtrack = 0; backtrack < maxBacktracks; backtrack++) {
      for (let j = 0; j < n; j++) candidate[j] = x[j] + step * direction[j];
      candidateValue = objective(candidate, candidateGradient);
      if (candidateValue <= value + armijoSlope * step * slope) {
        accepted = true;
        break;
      }
      step /= 2;
    }
    // No decrease along a descent direction: the objective is flat to machine precision here.
    if (!accepted) break;

    corrections.add(x, candidate, gradient, candidateGradient);
    [x, candidate] = [candidate, x];
    [gradient, candidateGradient] = [candidateGradient, gradient];
    const decrease = value - candidateValue;
    const scale = Math.max(Math.abs(value), Math.abs(candidateValue), 1);
    value = candidateValue;
    valueHistory.push(value);
    onIteration?.(valueHistory.length, value, x);
    converged = maxAbs(gradient) <= gradientTolerance || decrease <= stallDecrease * scale;
  }
  return { x, iterations: valueHistory.length, converged, valueHistory };
}

/** The last `memory` pairs s = x' - x, y = g' - g, in a ring buffer. */
class CorrectionHistory {
  private readonly steps: Float64Array[] = [];
  private readonly gradientChanges: Float64Array[] = [];
  private readonly inverseCurvatures: number[] = [];
  private readonly alphas: Float64Array;
  private next = 0;
  size = 0;

  constructor(
    private readonly dimension: number,
    private readonly memory: number,
  ) {
    for (let k = 0; k < memory; k++) {
      this.steps.push(new Float64Array(dimension));
      this.gradientChanges.push(new Float64Array(dimension));
      this.inverseCurvatures.push(0);
    }
    this.alphas = new Float64Array(memory);
  }

  clear(): void {
    this.size = 0;
    this.next = 0;
  }

  add(x: Float64Array, nextX: Float64Array, gradient: Float64Array, nextGradient: Float64Array): void {
    const s = this.steps[this.next];
    const y = this.gradientChanges[this.next];
    for (let j = 0; j < this.dimension; j++) {
      s[j] = nextX[j] - x[j];
      y[j] = nextGradient[j] - gradient[j];
    }
    const curvature = dot(s, y);
    // A pair without positive curvature would make the Hessian approximation indefinite.
    if (!(curvature > 1e-12 * dot(y, y))) return;
    this.inverseCurvatures[this.next] = 1 / curvature;
    this.next = (this.next + 1) % this.memory;
    this.size = Math.min(this.size + 1, this.memory);
  }

  /** The two-loop recursion: out = H·v, with H the L-BFGS inverse Hessian approximation. */
  applyInverseHessian(v: Float64Array, out: Float64Array): void {
    out.set(v);
    if (this.size === 0) return;
    for (let k = 1; k <= this.size; k++) {
      const slot = this.slot(k);
      const alpha = this.inverseCurvatures[slot] * dot(this.steps[slot], out);
      this.alphas[slot] = alpha;
      axpy(-alpha, this.gradientChanges[slot], out);
    }
    const newest = this.slot(1);
    const gamma = 1 / (this.inverseCurvatures[newest] * dot(this.gradientChanges[newest], this.gradientChanges[newest]));
    for (let j = 0; j < this.dimension; j++) out[j] *= gamma;
    for (let k = this.size; k >= 1; k--) {
      const slot = this.slot(k);
      const beta = this.inverseCurvatures[slot] * dot(this.gradientChanges[slot], out);
      axpy(this.alphas[slot] - beta, this.steps[slot], out);
    }
  }

  /** Ring-buffer slot of the k-th most recent pair (k = 1 is the newest). */
  private slot(k: number): number {
    return (this.next - k + this.memory) % this.memory;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j] * b[j];
  return sum;
}

function axpy(scale: number, x: Float64Array, y: Float64Array): void {
  for (let j = 0; j < y.length; j++) y[j] += scale * x[j];
}

function maxAbs(v: Float64Array): number {
  let max = 0;
  for (let j = 0; j < v.length; j++) max = Math.max(max, Math.abs(v[j]));
  return max;
}
