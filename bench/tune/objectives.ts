import type { ParamSet } from '../../src/shared/search-space';

/** The bench's synthetic objectives, written the same way as objectives.py (lower is better). */

const HARTMANN_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const HARTMANN_P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
const HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2];

export const objectives: Record<string, (p: ParamSet) => number> = {
  mixed: (p) => (Math.log10(p.l2) + 1) ** 2 + (p.rate - 1.3) ** 2 + ((p.leaves - 24) / 30) ** 2 + (p.depth === 6 ? 0 : 0.5),
  hartmann6: (p) => {
    const x = [1, 2, 3, 4, 5, 6].map((i) => p[`x${i}`]);
    let total = 0;
    for (let i = 0; i < 4; i++)
      total += HARTMANN_ALPHA[i] * Math.exp(-x.reduce((s, xj, j) => s + HARTMANN_A[i][j] * (xj - HARTMANN_P[i][j]) ** 2, 0));
    return -total;
  },
};
