"""Reference values for keel's drift statistics, computed once with SciPy/NumPy.

Writes test/fixtures/drift/scipy-reference.json. The samples are not stored: each case holds the
spec of its samples (bench/drift/samples.py; test/fixtures/drift/samples.ts regenerates the same
values in TypeScript) plus a checksum, so the fixture stays small.

    ~/.cache/keel/bench-venv/bin/python bench/drift/make_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance

sys.path.insert(0, os.path.dirname(__file__))
from samples import sample  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "drift", "scipy-reference.json")


def checksum(values):
    if isinstance(values[0], str):
        return {"n": len(values), "first": values[0], "last": values[-1]}
    return {"n": len(values), "sum": math.fsum(values), "first": values[0], "last": values[-1]}


def num(spec, **kw):
    return {"dist": "normalish", **spec, **kw}


cases = {"ks": [], "kstwo": [], "smirnov": [], "chi2sf": [], "chisquare": [], "chisquareSamples": [],
         "jensenshannon": [], "jensenshannonSamples": [], "wasserstein": [], "ztest": []}

# --- two-sample Kolmogorov-Smirnov, method 'auto' (exact when both samples have <= 10000) ------
ks_pairs = [
    ("equal sizes 50, shifted", num({"n": 50, "seed": 1}), num({"n": 50, "seed": 2, "loc": 0.3})),
    ("equal sizes 200, same distribution", num({"n": 200, "seed": 3}), num({"n": 200, "seed": 4})),
    ("80 vs 120", num({"n": 80, "seed": 5}), num({"n": 120, "seed": 6, "scale": 1.5})),
    ("ties 300 vs 200", {"dist": "rounded", "n": 300, "seed": 7}, {"dist": "rounded", "n": 200, "seed": 8, "loc": 0.1}),
    ("1000 vs 7", num({"n": 1000, "seed": 9}), num({"n": 7, "seed": 10, "loc": 0.5})),
    ("skewed 600 vs 400", {"dist": "product", "n": 600, "seed": 11}, num({"n": 400, "seed": 12, "loc": 0.25, "scale": 0.3})),
    ("10000 vs 9000 exact, small shift", num({"n": 10000, "seed": 13}), num({"n": 9000, "seed": 14, "loc": 0.02})),
    ("10000 vs 10000 exact square", num({"n": 10000, "seed": 15}), num({"n": 10000, "seed": 16, "loc": 0.01})),
    ("asymptotic 20000 vs 5000, same", num({"n": 20000, "seed": 17}), num({"n": 5000, "seed": 18})),
    ("asymptotic 20000 vs 5000, shift 0.03", num({"n": 20000, "seed": 19}), num({"n": 5000, "seed": 20, "loc": 0.03})),
    ("asymptotic 20000 vs 5000, shift 0.5", num({"n": 20000, "seed": 21}), num({"n": 5000, "seed": 22, "loc": 0.5})),
    ("asymptotic 20000 vs 30", num({"n": 20000, "seed": 23}), num({"n": 30, "seed": 24, "loc": 0.2})),
    ("asymptotic 20000 vs 100", num({"n": 20000, "seed": 25}), num({"n": 100, "seed": 26, "loc": 0.1})),
    ("asymptotic nearly identical", num({"n": 20000, "seed": 27}), num({"n": 20000, "seed": 27, "replaceTail": {"count": 10, "value": 9.0}})),
    ("asymptotic ties 30000 vs 12000", {"dist": "rounded", "n": 30000, "seed": 28}, {"dist": "rounded", "n": 12000, "seed": 29, "scale": 1.02}),
]
for name, a, b in ks_pairs:
    x, y = sample(a), sample(b)
    r = stats.ks_2samp(x, y)
    cases["ks"].append({"name": name, "reference": a, "current": b, "referenceCheck": checksum(x), "currentCheck": checksum(y),
                        "method": "exact" if max(len(x), len(y)) <= 10000 else "asymp",
                        "statistic": float(r.statistic), "pValue": float(r.pvalue)})

# --- the two-sided one-sample Kolmogorov distribution kstwo.sf, across Simard-L'Ecuyer's regions ---
for n in [1, 2, 5, 30, 100, 140, 141, 500, 5000, 50000, 100000, 100001, 2000000]:
    ds = set()
    for c in [0.3, 0.6, 0.754693, 1.0, 2.0, 2.2, 3.0, 4.0, 8.0, 18.0, 50.0, 369.0, 371.0]:
        d = math.sqrt(c / n)
        if d < 1:
            ds.add(d)
    for t in [0.4, 0.5, 0.75, 1.0, 1.5, n - 1.5, n - 1, n - 0.5]:
        if 0 < t < n:
            ds.add(t / n)
    for d in [0.5, 0.6, 0.9, 0.999]:
        ds.add(d)
    for d in sorted(ds):
        cases["kstwo"].append({"n": n, "d": d, "sf": float(stats.kstwo.sf(d, n))})

for n in [2, 3, 10, 141, 1000, 50000, 2000000]:
    for c in [0.5, 2.2, 5.0, 20.0, 100.0]:
        d = math.sqrt(c / n)
        if d < 1:
            cases["smirnov"].append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})
    for d in [0.3, 0.7, 0.95]:
        cases["smirnov"].append({"n": n, "d": d, "sf": float(special.smirnov(n, d))})

# --- chi-squared survival function: regularised upper incomplete gamma Q(df/2, x/2) ------------
for df in [1, 2, 3, 4, 5, 9, 10, 30, 49, 50, 51, 99, 200, 1000, 5000]:
    for x in sorted({1e-6, 0.01, 0.5 * df, df - 2 * math.sqrt(2 * df), df, df + 1, 1.5 * df, 2 * df,
                     df + 5 * math.sqrt(2 * df), df + 10 * math.sqrt(2 * df), 3 * df + 50, 10 * df + 200}):
        if x > 0:
            cases["chi2sf"].append({"df": df, "x": x, "sf": float(special.chdtrc(df, x))})

# --- chisquare on counts ---------------------------------------------------------------------------
for name, obs, exp in [
    ("uniform expected", [16, 18, 16, 14, 12, 12], None),
    ("given expected", [43, 52, 54, 40], [53.5, 43.5, 46.0, 46.0]),
    ("two bins", [480, 520], [500, 500]),
    ("large deviation", [9000, 500, 500], [3000.0, 3000.0, 4000.0]),
    ("fractional expected", [5, 7, 13, 25], [6.3, 9.1, 11.9, 22.7]),
]:
    r = stats.chisquare(obs, exp) if exp is not None else stats.chisquare(obs)
    cases["chisquare"].append({"name": name, "observed": obs, "expected": exp, "statistic": float(r.statistic), "pValue": float(r.pvalue)})


def evidently_chi(ref, cur):
    """Evidently's chi-square drift test: counts over the union of categories, expected from the
    reference counts scaled to the current size."""
    keys = sorted(set(ref) | set(cur))
    ref_counts = {k: 0 for k in keys}
    cur_counts = {k: 0 for k in keys}
    for v in ref:
        ref_counts[v] += 1
    for v in cur:
        cur_counts[v] += 1
    k_norm = len(cur) / len(ref)
    f_exp = [ref_counts[k] * k_norm for k in keys]
    f_obs = [cur_counts[k] for k in keys]
    r = stats.chisquare(f_obs, f_exp)
    return float(r.statistic), float(r.pvalue)


cats = ["ATL", "ORD", "DFW", "LAX", "DEN", "JFK"]
for name, a, b in [
    ("same weights", {"dist": "categorical", "n": 500, "seed": 31, "categories": cats, "weights": [5, 4, 3, 2, 1, 1]},
     {"dist": "categorical", "n": 300, "seed": 32, "categories": cats, "weights": [5, 4, 3, 2, 1, 1]}),
    ("shifted weights", {"dist": "categorical", "n": 800, "seed": 33, "categories": cats, "weights": [5, 4, 3, 2, 1, 1]},
     {"dist": "categorical", "n": 600, "seed": 34, "categories": cats, "weights": [3, 4, 3, 2, 2, 2]}),
]:
    x, y = sample(a), sample(b)
    s, p = evidently_chi(x, y)
    cases["chisquareSamples"].append({"name": name, "reference": a, "current": b, "referenceCheck": checksum(x), "currentCheck": checksum(y),
                                      "statistic": s, "pValue": p})

# --- Jensen-Shannon distance -------------------------------------------------------------------
for name, p, q in [
    ("textbook", [1.0, 0.0], [0.5, 0.5]),
    ("unnormalised", [1, 2, 3, 4], [13, 14, 15, 16]),
    ("disjoint", [1, 0, 0], [0, 0, 1]),
    ("close", [0.2, 0.3, 0.5], [0.21, 0.29, 0.5]),
    ("zeros on both sides", [0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.25, 0.5]),
]:
    cases["jensenshannon"].append({"name": name, "p": p, "q": q,
                                   "base2": float(distance.jensenshannon(p, q, base=2)),
                                   "baseE": float(distance.jensenshannon(p, q))})


def evidently_binned(ref, cur, numeric):
    """Evidently's get_binned_data (without zero filling): Sturges bins over both samples for a
    numeric column with more than 20 distinct reference values, else counts per value."""
    ref_s, cur_s = np.asarray(ref), np.asarray(cur)
    if numeric and len(set(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref_s, cur_s]), bins="sturges")
        return np.histogram(ref_s, bins)[0] / len(ref_s), np.histogram(cur_s, bins)[0] / len(cur_s), len(bins) - 1
    keys = sorted(set(ref) | set(cur))
    rc = {k: 0 for k in keys}
    cc = {k: 0 for k in keys}
    for v in ref:
        rc[v] += 1
    for v in cur:
        cc[v] += 1
    return np.array([rc[k] / len(ref) for k in keys]), np.array([cc[k] / len(cur) for k in keys]), len(keys)


for name, a, b, numeric in [
    ("numeric same", num({"n": 3000, "seed": 41}), num({"n": 2000, "seed": 42}), True),
    ("numeric shifted", num({"n": 3000, "seed": 43}), num({"n": 2500, "seed": 44, "loc": 0.4}), True),
    ("numeric skewed vs bell", {"dist": "product", "n": 5000, "seed": 45}, num({"n": 1000, "seed": 46, "loc": 0.3, "scale": 0.4}), True),
    ("numeric few values", {"dist": "rounded", "n": 2000, "seed": 47, "scale": 0.3}, {"dist": "rounded", "n": 1500, "seed": 48, "scale": 0.3, "loc": 0.1}, True),
    ("categorical new category", {"dist": "categorical", "n": 4000, "seed": 49, "categories": cats, "weights": [5, 4, 3, 2, 1, 1]},
     {"dist": "categorical", "n": 3000, "seed": 50, "categories": cats + ["SEA"], "weights": [5, 4, 3, 2, 1, 1, 2]}, False),
]:
    x, y = sample(a), sample(b)
    rp, cp, bins = evidently_binned(x, y, numeric)
    cases["jensenshannonSamples"].append({"name": name, "reference": a, "current": b, "referenceCheck": checksum(x), "currentCheck": checksum(y),
                                          "numeric": numeric, "bins": int(bins),
                                          "base2": float(distance.jensenshannon(rp, cp, base=2))})

# --- Wasserstein distance and Evidently's normalisation (reference population std) -------------
for name, a, b in [
    ("tiny", None, None),
    ("same distribution", num({"n": 3000, "seed": 51}), num({"n": 2000, "seed": 52})),
    ("shifted 0.2", num({"n": 3000, "seed": 53}), num({"n": 2000, "seed": 54, "loc": 0.2})),
    ("scaled", num({"n": 1000, "seed": 55}), num({"n": 1700, "seed": 56, "scale": 2.0})),
    ("ties", {"dist": "rounded", "n": 2500, "seed": 57}, {"dist": "rounded", "n": 900, "seed": 58, "loc": 0.05}),
    ("skewed large", {"dist": "product", "n": 100000, "seed": 59, "scale": 100.0}, {"dist": "product", "n": 50000, "seed": 60, "scale": 110.0}),
]:
    if a is None:
        x, y = [0.0, 1.0, 3.0], [5.0, 6.0, 8.0]
        entry = {"name": name, "referenceValues": x, "currentValues": y}
    else:
        x, y = sample(a), sample(b)
        entry = {"name": name, "reference": a, "current": b, "referenceCheck": checksum(x), "currentCheck": checksum(y)}
    w = float(stats.wasserstein_distance(x, y))
    entry.update({"distance": w, "referenceStd": float(np.std(x)), "normed": w / max(float(np.std(x)), 0.001)})
    cases["wasserstein"].append(entry)

# --- Evidently's two-proportion Z-test for binary categorical columns ---------------------------
for name, a, b in [
    ("same share", {"dist": "categorical", "n": 800, "seed": 61, "categories": ["no", "yes"], "weights": [4, 1]},
     {"dist": "categorical", "n": 500, "seed": 62, "categories": ["no", "yes"], "weights": [4, 1]}),
    ("shifted share", {"dist": "categorical", "n": 800, "seed": 63, "categories": ["no", "yes"], "weights": [4, 1]},
     {"dist": "categorical", "n": 500, "seed": 64, "categories": ["no", "yes"], "weights": [3, 2]}),
]:
    x, y = sample(a), sample(b)
    key = sorted(set(x) | set(y))[0]
    n1, n2 = len(x), len(y)
    p1 = sum(0 if v == key else 1 for v in x) / n1
    p2 = sum(0 if v == key else 1 for v in y) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    cases["ztest"].append({"name": name, "reference": a, "current": b, "referenceCheck": checksum(x), "currentCheck": checksum(y),
                           "z": z, "pValue": float(2 * stats.norm.sf(abs(z)))})

document = {
    "generatedBy": "bench/drift/make_fixtures.py",
    "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__},
    **cases,
}
with open(OUT, "w") as f:
    # One case per line: small, and a regenerated file diffs readably.
    f.write("{\n")
    items = list(document.items())
    for i, (key, value) in enumerate(items):
        f.write(f" {json.dumps(key)}: ")
        if isinstance(value, list):
            f.write("[\n" + ",\n".join("  " + json.dumps(entry, separators=(",", ":")) for entry in value) + "\n ]")
        else:
            f.write(json.dumps(value, separators=(",", ":")))
        f.write(",\n" if i < len(items) - 1 else "\n")
    f.write("}\n")
print(f"wrote {os.path.normpath(OUT)}: " + ", ".join(f"{k} {len(v)}" for k, v in cases.items()))
