"""SciPy/NumPy side of `npm run bench:drift`: the same statistics as keel on the same arrays.

Per numeric column (NaN dropped, as Evidently does): scipy.stats.ks_2samp (method 'auto'),
scipy.stats.wasserstein_distance divided by the reference's numpy.std (floored at 0.001), the
Jensen-Shannon distance (base 2) over Evidently's bins (Sturges bins of both samples, or values
when the reference has at most 20), and keel's PSI (reference deciles, a bin for missing values,
shares floored at 1e-4). Per categorical column ('' dropped): Evidently's chi-squared test (or its
z-test for two categories), the Jensen-Shannon distance over the categories, and keel's PSI (the
50 most frequent reference categories, "other", missing).

    python bench/drift/drift_reference.py <data dir> <repeat>
"""
import json
import math
import os
import resource
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance


def psi_score(expected, actual):
    e = np.maximum(expected, 1e-4)
    a = np.maximum(actual, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))


def numeric(ref_all, cur_all):
    ref = ref_all[~np.isnan(ref_all)]
    cur = cur_all[~np.isnan(cur_all)]
    ks = stats.ks_2samp(ref, cur)
    wasserstein = stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
    ref_sorted = np.sort(ref)
    distinct = np.unique(ref_sorted)
    if len(distinct) > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        ref_share = np.histogram(ref, edges)[0] / len(ref)
        cur_share = np.histogram(cur, edges)[0] / len(cur)
    else:
        keys = np.union1d(distinct, np.unique(cur))
        ref_share = np.zeros(len(keys))
        cur_share = np.zeros(len(keys))
        k, c = np.unique(ref, return_counts=True)
        ref_share[np.searchsorted(keys, k)] = c / len(ref)
        k, c = np.unique(cur, return_counts=True)
        cur_share[np.searchsorted(keys, k)] = c / len(cur)
    js = float(distance.jensenshannon(ref_share, cur_share, base=2))
    # keel's PSI reference: cut points where k/10 of the present values lie, ties merged.
    n = len(ref_sorted)
    edges = []
    for k in range(1, 10):
        edge = ref_sorted[math.ceil(k * n / 10) - 1]
        if not edges or edge != edges[-1]:
            edges.append(edge)
    edges = np.array(edges)
    expected = np.append(np.bincount(np.searchsorted(edges, ref, "left"), minlength=len(edges) + 1) / len(ref_all), 1 - len(ref) / len(ref_all))
    actual = np.append(np.bincount(np.searchsorted(edges, cur, "left"), minlength=len(edges) + 1) / len(cur_all), 1 - len(cur) / len(cur_all))
    return {"ks_statistic": float(ks.statistic), "ks_p": float(ks.pvalue), "wasserstein": wasserstein, "js": js, "psi": psi_score(expected, actual)}


def categorical(ref_all, cur_all):
    ref = ref_all[ref_all != ""]
    cur = cur_all[cur_all != ""]
    ref_keys, ref_counts = np.unique(ref, return_counts=True)
    cur_keys, cur_counts = np.unique(cur, return_counts=True)
    keys = np.union1d(ref_keys, cur_keys)
    r = np.zeros(len(keys))
    c = np.zeros(len(keys))
    r[np.searchsorted(keys, ref_keys)] = ref_counts
    c[np.searchsorted(keys, cur_keys)] = cur_counts
    out = {}
    if len(keys) > 2:
        chi = stats.chisquare(c, r * (len(cur) / len(ref)))
        out["chi2"] = float(chi.statistic)
        out["chi2_p"] = float(chi.pvalue)
    else:
        p1 = 1 - r[0] / len(ref)
        p2 = 1 - c[0] / len(cur)
        pooled = (p1 * len(ref) + p2 * len(cur)) / (len(ref) + len(cur))
        z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / len(ref) + 1 / len(cur)))
        out["z_p"] = float(2 * stats.norm.sf(abs(z)))
    out["js"] = float(distance.jensenshannon(r / len(ref), c / len(cur), base=2))
    # keel's PSI reference: the 50 most frequent categories (ties by value), "other", missing.
    order = sorted(range(len(ref_keys)), key=lambda i: (-ref_counts[i], ref_keys[i]))[:50]
    top = {ref_keys[i]: j for j, i in enumerate(order)}
    def shares(keys_, counts_, total, present):
        bins = np.zeros(len(top) + 2)
        for key, count in zip(keys_, counts_):
            bins[top.get(key, len(top))] += count
        bins[-1] = total - present
        return bins / total
    out["psi"] = psi_score(shares(ref_keys, ref_counts, len(ref_all), len(ref)), shares(cur_keys, cur_counts, len(cur_all), len(cur)))
    return out


def main():
    directory, repeat = sys.argv[1], int(sys.argv[2])
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    data = {}
    for column in meta["columns"]:
        name = column["name"]
        for side in ("reference", "current"):
            if column["kind"] == "numeric":
                data[(name, side)] = np.load(os.path.join(directory, f"{name}.{side}.npy"))
            else:
                with open(os.path.join(directory, f"{name}.{side}.txt")) as f:
                    data[(name, side)] = np.array(f.read().split("\n"))
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = []
    cpu_seconds = []
    results = {}
    for _ in range(repeat):
        started = time.perf_counter()
        cpu_started = time.process_time()
        for column in meta["columns"]:
            name = column["name"]
            compute = numeric if column["kind"] == "numeric" else categorical
            results[name] = compute(data[(name, "reference")], data[(name, "current")])
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import scipy
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": peak, "loaded_rss_mb": loaded, "versions": {"numpy": np.__version__, "scipy": scipy.__version__}, "columns": results}))


main()
