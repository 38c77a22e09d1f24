import { walkEcdfs } from './distances';

/**
 * The two-sample Kolmogorov–Smirnov test as scipy.stats.ks_2samp computes it (two-sided,
 * method 'auto'): the exact distribution of the statistic when both samples have at most 10 000
 * values, else the one-sample Kolmogorov distribution of n = round(n1·n2 / (n1 + n2))
 * (scipy.stats.kstwo.sf, after Simard & L'Ecuyer 2011). Inputs are sorted, NaN-free arrays.
 */

export interface KsResult {
  /** sup |F1 − F2| over the pooled values. */
  statistic: number;
  pValue: number;
  /** How the p-value was computed (scipy's 'exact' or 'asymp'). */
  method: 'exact' | 'asymp';
  /** Where the supremum is reached and which ECDF is above there (+1: the first). */
  location: number;
  sign: 1 | -1;
}

/** ks_2samp's 'auto' switches to the asymptotic distribution above this sample size. */
const KS_MAX_EXACT_N = 10_000;

/**
 * The statistic by the merge walk of two sorted arrays (walkEcdfs in distances.ts, shared with the
 * Wasserstein distance): O(n1 + n2), ties handled as searchsorted 'right'. `aWeights` gives each
 * value of `a` a count (a reference known as distinct values with counts): the ECDF, hence the
 * statistic, is then that of `a` with each value repeated that many times.
 */
export function ksStatistic(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  aWeights?: ArrayLike<number>,
): { statistic: number; location: number; sign: 1 | -1 } {
  const { statistic, location, sign } = walkEcdfs(a, b, aWeights, 'the Kolmogorov–Smirnov test needs two non-empty samples');
  return { statistic, location, sign };
}

/**
 * Two-sided two-sample KS test of sorted samples, as scipy.stats.ks_2samp(a, b) with the default
 * method 'auto'. `method` forces the exact or the asymptotic p-value (exact falls back to
 * asymptotic when it cannot be computed, as SciPy does).
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>, method: 'auto' | 'exact' | 'asymp' = 'auto'): KsResult {
  const { statistic, location, sign } = ksStatistic(a, b);
  return { ...ksPValue(statistic, a.length, b.length, method), location, sign };
}

/**
 * The p-value of a two-sample KS statistic d for sample sizes n1, n2. In exact mode the statistic
 * is snapped to the lattice h / lcm(n1, n2) as SciPy does, and that value is returned.
 */
export function ksPValue(
  d: number,
  n1: number,
  n2: number,
  method: 'auto' | 'exact' | 'asymp' = 'auto',
): { statistic: number; pValue: number; method: 'exact' | 'asymp' } {
  let mode = method === 'auto' ? (Math.max(n1, n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymp') : method;
  const g = gcd(n1, n2);
  if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymp';
  if (mode === 'exact') {
    const exact = exactTwoSample(n1, n2, g, d);
    if (exact) return { statistic: exact.d, pValue: clip01(exact.p), method: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic: d, pValue: clip01(kolmogorovSf(roundHalfEven(en), d)), method: 'asymp' };
}

function exactTwoSample(n1: number, n2: number, g: number, d: number): { d: number; p: number } | null {
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const snapped = h / lcm;
  if (h === 0) return { d: snapped, p: 1 };
  const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return null;
  return { d: snapped, p };
}

/** Pr(D_{n,n} >= h/n) by a Horner-like evaluation of the alternating binomial series. */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * The share of lattice paths from (0, 0) to (m, n) that leave the band |x/m − y/n| < h/lcm:
 * Hodges' inside method with Viehmann's recursion for 1 − p (numerically stable), one sliding
 * column at a time.
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let value = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      value = (A[jj + minj - lastminj] * i + value * j) / (i + j);
      A[jj] = value;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1];
}

// ---------------------------------------------------------------------------------------------
// The one-sample two-sided Kolmogorov distribution: kolmogorovSf(n, d) = scipy.stats.kstwo.sf(d, n)
// ---------------------------------------------------------------------------------------------

const LOG_2PI = Math.log(2 * Math.PI);
const SQRT_2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const MIN_LOG = -708;
const E128 = 128;
const P128 = 2 ** 128;
const M128 = 2 ** -128;
// Stirling coefficients B_2j / (2j (2j − 1)), j = 8 .. 1, as in SciPy's _ksstats.
const STIRLING = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4, -5.952380952380952381e-4,
  7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/**
 * P(D_n >= d) for the two-sided one-sample KS statistic D_n: exact (Durbin's matrix as
 * Marsaglia–Tsang–Wang evaluate it; Ruben–Gambino at the ends; 2·Smirnov where the two tails do
 * not overlap) or the Pelz–Good asymptotic series, chosen as Simard & L'Ecuyer recommend.
 */
export function kolmogorovSf(n: number, d: number): number {
  if (Number.isNaN(n) || Number.isNaN(d)) return Number.NaN;
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (d >= 1) return 0;
  if (d <= 0) return 1;
  const t = n * d;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i++) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - cdf);
  }
  if (t >= n - 1) return clip01(2 * (1 - d) ** n);
  if (d >= 0.5) return clip01(2 * smirnovSf(n, d));
  const nxSquared = t * d;
  if (n <= 140) {
    // SciPy uses Pomeranz's recursion for 0.754693 < n·d² <= 4; Durbin's matrix is exact there too.
    if (nxSquared <= 4) return clip01(1 - durbinCdf(n, d));
    return clip01(2 * smirnovSf(n, d));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip01(2 * smirnovSf(n, d));
  const cdf = n <= 100_000 && n * d ** 1.5 <= 1.4 ? durbinCdf(n, d) : pelzGoodCdf(n, d);
  return clip01(1 - cdf);
}

/** ln(n! / n^n) by Stirling's series, with n·ln n removed up front. */
function logFactorialOverPower(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** P(D_n <= d) by Durbin's matrix algorithm (Marsaglia, Tsang & Wang 2003), with rescaling. */
function durbinCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * factorial;
  for (let i = 1; i < m; i++) for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)];
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];

  let power: Float64Array = identity(m);
  let exponent = 0;
  let hExponent = 0;
  let remaining = n;
  while (remaining > 0) {
    if (remaining % 2) {
      power = matmul(power, H, m);
      exponent += hExponent;
    }
    H = matmul(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]) > P128) {
      for (let i = 0; i < H.length; i++) H[i] /= P128;
      hExponent += E128;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[(k - 1) * m + (k - 1)];
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < M128) {
      p *= P128;
      exponent -= E128;
    }
  }
  return clip01(ldexp(p, exponent));
}

function identity(m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) out[i * m + i] = 1;
  return out;
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      const row = k * m;
      const target = i * m;
      for (let j = 0; j < m; j++) out[target + j] += aik * b[row + j];
    }
  }
  return out;
}

function ldexp(x: number, exponent: number): number {
  let e = exponent;
  let value = x;
  while (e > 1000) {
    value *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    value *= 2 ** -1000;
    e += 1000;
  }
  return value * 2 ** e;
}

/** The Pelz–Good approximation to P(D_n <= d), from the Li-Chien/Korolyuk expansion. */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z3 = z2 * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qpower + coeffs[i];
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i] * q * SQRT_2PI) / divisors[i];
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qk = q ** k2;
    k2extra += k2 * qk;
    const kpi = Math.PI * k;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  K[2] += (k2extra * PI2 * SQRT_2PI) / (-36 * z3);
  K[3] += (k3extra * PI2 * SQRT_2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / n ** (i / 2);
  return sum;
}

/**
 * P(D_n^+ >= d) for the one-sided statistic: scipy.special.smirnov(n, d), by the Birnbaum–Tingey
 * sum (all terms positive, evaluated in logarithms; SciPy uses double-double arithmetic, which
 * agrees to about 1e-11 relative for n up to a million).
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1) || !Number.isInteger(n)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its remainder alpha, exactly (n·x as an unevaluated sum hi + lo).
  const [hi, lo] = twoProduct(n, x);
  let nxFloor = Math.floor(hi);
  let alpha = hi - nxFloor + lo;
  if (alpha < 0) {
    nxFloor -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxFloor += 1;
    alpha -= 1;
  }
  if (nxFloor === 0 || (nxFloor === 1 && alpha === 0)) return clip01(1 - x * (1 + x) ** (n - 1));
  if (-2 * n * x * x < -745.1332191019412) return 0;
  if (nxFloor >= n - 1) return clip01((1 - x) ** n);
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp);
  }
  // sf = x · Σ_{v=0}^{last} C(n, v) (1 − x − v/n)^{n−v} (x + v/n)^{v−1}
  // The last term (v = n − nx when n·x is an integer) is zero and left out.
  const terms = n - nxFloor;
  const logX = Math.log(x);
  // ln C(n, v) grows to thousands: it is accumulated with compensation (Neumaier), or its
  // rounding error would reach 1e-10 relative in the terms for n ~ 1e5.
  let logBinomial = 0;
  let logBinomialError = 0;
  let sum = 0;
  for (let v = 0; v < terms; v++) {
    if (v > 0) {
      const add = Math.log((n - v + 1) / v);
      const next = logBinomial + add;
      logBinomialError += Math.abs(logBinomial) >= Math.abs(add) ? logBinomial - next + add : add - next + logBinomial;
      logBinomial = next;
    }
    const top = (nxFloor + v + alpha) / n; // x + v/n
    const bottom = n - v - nxFloor - alpha; // n·(1 − x − v/n), exact integer part
    const logBottom = top < 0.5 ? Math.log1p(-top) : Math.log(bottom / n);
    const term = Math.exp(logX + (logBinomial + ((n - v) * logBottom + (v - 1) * Math.log(top))) + logBinomialError);
    sum += term;
    if (term !== 0) {
      if (4 * (terms - v) * term < 2.220446049250313e-16 * sum && v !== terms - 1) break;
    } else if (v > n / 2) {
      break;
    }
  }
  return clip01(sum);
}

/** a·b as hi + lo exactly (Dekker's product with Veltkamp splitting). */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const err = ah * bh - p + ah * bl + al * bh + al * bl;
  return [p, err];
}

function split(a: number): [number, number] {
  const c = 134217729 * a; // 2^27 + 1
  const high = c - (c - a);
  return [high, a - high];
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/** NumPy's round: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function clip01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
