/**
 * Special functions behind the drift tests' p-values: log-gamma, the regularised incomplete gamma
 * functions (chi-squared survival function) and the two-sided normal tail. Pure double-precision
 * code, checked against SciPy (test/fixtures/drift/scipy-reference.json) to about 1e-12 relative.
 */

const LOG_SQRT_2PI = 0.9189385332046727; // ln(sqrt(2 pi))
const EPSILON = 2.220446049250313e-16;
const TINY = 1e-300;

// Lanczos approximation, g = 607/128, 15 terms (Godfrey): about 1e-15 relative for x > 0.5.
const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174, -0.49191381609762019978,
  0.33994649984811888699e-4, 0.46523628927048575665e-4, -0.98374475304879564677e-4, 0.15808870322491248884e-3, -0.21026444172410488319e-3,
  0.2174396181152126432e-3, -0.16431810653676389022e-3, 0.84418223983852743293e-4, -0.2619083840158140867e-4, 0.36899182659531622704e-5,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  if (x >= 10) return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + stirlingError(x);
  const z = x - 1;
  let sum = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i] / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln Γ(x) − [(x − ½) ln x − x + ln √(2π)]: the remainder of Stirling's formula. */
function stirlingError(x: number): number {
  if (x < 10) return logGamma(x) - ((x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI);
  const r = 1 / x;
  const r2 = r * r;
  // Bernoulli-number series; the first omitted term is below 1e-17 for x >= 10.
  return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (1 / 1188 - r2 * (691 / 360360))))));
}

/** t − ln(1 + t), accurate near t = 0 where the difference cancels. */
function minusLog1pMinusX(t: number): number {
  if (Math.abs(t) > 0.25) return t - Math.log1p(t);
  // Σ_{k>=2} (−t)^k / k · (−1)^{k} … = t²/2 − t³/3 + t⁴/4 − …
  let term = t * t;
  let sum = 0;
  for (let k = 2; k < 200; k++) {
    const add = term / k;
    sum += add;
    if (Math.abs(add) <= EPSILON * Math.abs(sum)) break;
    term *= -t;
  }
  return sum;
}

/**
 * ln(x^a e^{-x} / Γ(a)), the common factor of both incomplete gamma functions. For large a the
 * direct form loses digits to cancellation (a ln x and ln Γ(a) are both ~ a ln a), so it is
 * rewritten around x = a: −a·(t − ln(1 + t)) + ½ ln(a / 2π) − stirlingError(a), t = (x − a)/a.
 */
function logGammaPrefix(a: number, x: number): number {
  if (a < 10) return a * Math.log(x) - x - logGamma(a);
  const t = (x - a) / a;
  return -a * minusLog1pMinusX(t) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingError(a);
}

/** Regularised lower incomplete gamma P(a, x) = γ(a, x) / Γ(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 0;
  if (x === Infinity) return 1;
  return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x);
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x). */
export function regularizedGammaQ(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x);
}

/** P(a, x) by its power series; converges quickly for x < a + 1. */
function gammaSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  let ap = a;
  for (let i = 0; i < 100_000; i++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return Math.min(1, sum * Math.exp(logGammaPrefix(a, x)));
}

/** Q(a, x) by its continued fraction (modified Lentz); converges quickly for x >= a + 1. */
function gammaContinuedFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.min(1, Math.exp(logGammaPrefix(a, x)) * h);
}

/** P(X > x) for X ~ χ²(df): scipy.special.chdtrc(df, x), the p-value of a chi-squared test. */
export function chiSquaredSf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return Number.NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** P(|Z| >= |z|) for a standard normal Z: 2·(1 − Φ(|z|)) = erfc(|z|/√2) = Q(½, z²/2). */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z === 0) return 1;
  return regularizedGammaQ(0.5, (z * z) / 2);
}
