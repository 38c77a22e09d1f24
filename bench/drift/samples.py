"""Seeded samples shared by keel's TypeScript tests and the SciPy fixture script.

The generator (mulberry32) and every transform use only integer operations and correctly rounded
+, -, *, / on doubles, so Python and JavaScript produce bit-identical samples from the same spec
(see test/fixtures/drift/samples.ts, the TypeScript twin of this file).
"""

M32 = 0xFFFFFFFF


def mulberry32(seed):
    state = seed & M32

    def next_uniform():
        nonlocal state
        state = (state + 0x6D2B79F5) & M32
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return next_uniform


def sample(spec):
    """Values for a spec: {dist, n, seed, loc?, scale?, categories?, weights?, replaceTail?}."""
    uniform = mulberry32(spec["seed"])
    n = spec["n"]
    dist = spec["dist"]
    loc = spec.get("loc", 0.0)
    scale = spec.get("scale", 1.0)
    values = []
    if dist == "normalish":  # Irwin-Hall(4) centred: bell-shaped, variance 1/3
        for _ in range(n):
            values.append(((uniform() + uniform()) + (uniform() + uniform()) - 2.0) * scale + loc)
    elif dist == "product":  # right-skewed on [0, scale)
        for _ in range(n):
            values.append(uniform() * uniform() * scale + loc)
    elif dist == "rounded":  # many ties: normalish rounded down to a tenth
        import math

        for _ in range(n):
            x = ((uniform() + uniform()) + (uniform() + uniform()) - 2.0) * scale + loc
            values.append(math.floor(x * 10.0) / 10.0)
    elif dist == "categorical":
        categories = spec["categories"]
        weights = spec["weights"]
        total = 0.0
        for w in weights:
            total += w
        cumulative = []
        running = 0.0
        for w in weights:
            running += w
            cumulative.append(running / total)
        for _ in range(n):
            u = uniform()
            index = len(categories) - 1
            for i, c in enumerate(cumulative):
                if u < c:
                    index = i
                    break
            values.append(categories[index])
    else:
        raise ValueError(f"unknown dist {dist}")
    tail = spec.get("replaceTail")
    if tail:
        for i in range(n - tail["count"], n):
            values[i] = tail["value"]
    return values
