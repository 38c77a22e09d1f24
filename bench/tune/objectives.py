"""The bench's synthetic objectives, written the same way as objectives.ts (lower is better)."""
import math

HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]
HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]


def mixed(p):
    return (math.log10(p["l2"]) + 1) ** 2 + (p["rate"] - 1.3) ** 2 + ((p["leaves"] - 24) / 30) ** 2 + (0 if p["depth"] == 6 else 0.5)


def hartmann6(p):
    x = [p[f"x{i + 1}"] for i in range(6)]
    total = 0.0
    for i in range(4):
        total += HARTMANN_ALPHA[i] * math.exp(-sum(HARTMANN_A[i][j] * (x[j] - HARTMANN_P[i][j]) ** 2 for j in range(6)))
    return -total


OBJECTIVES = {"mixed": mixed, "hartmann6": hartmann6}
