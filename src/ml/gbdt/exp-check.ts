/**
 * Checks a replacement for exp on x <= 0 against this runtime's Math.exp, bit for bit, on inputs
 * that reach every branch of fdlibm's algorithm: |x| below 2^-28, the k = 0 and k = -1
 * reductions and their edges, the general case, subnormal results below -708, underflow, -0,
 * -Infinity and NaN, then a seeded sweep, dense over the range training meets (-|score| down to
 * -40). Meant to catch a runtime whose Math.exp was compiled differently (fused multiply-adds,
 * another libm); one wrong last bit on one input fails it (test/unit/gbdt-wasm-kernels.test.ts).
 */
export function expMatchesMath(expInPlace: (values: Float64Array) => void): boolean {
  const inputs = expCheckInputs();
  const values = Float64Array.from(inputs);
  expInPlace(values);
  return inputs.every((x, i) => {
    const expected = Math.exp(x);
    return Object.is(values[i], expected) || (Number.isNaN(values[i]) && Number.isNaN(expected));
  });
}

const FIXED = [
  0,
  -0,
  -(2 ** -29),
  -(2 ** -28),
  -1e-300,
  -0.3465,
  -0.3466,
  -0.5,
  -1.0397,
  -1.0398,
  -1.04,
  -2,
  -700,
  -708.39,
  -708.4,
  -720,
  -745.13,
  -745.14,
  -1e308,
  -Infinity,
  NaN,
];

/** The fixed inputs, then `count` seeded ones: three in four in [-40, 0], the rest in [-746, 0]. */
function expCheckInputs(count = 20_001): number[] {
  const inputs = [...FIXED];
  let state = 0x9e3779b9;
  const uniform = () => {
    // xorshift32: fixed, so that every run checks the same inputs.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < count; i++) inputs.push(i % 4 === 3 ? -746 * uniform() : -40 * uniform());
  return inputs;
}
