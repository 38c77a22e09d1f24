"""Optuna's TPE (the reference) on the bench's objectives: reads {objectives, trials, seeds} as JSON
on stdin, prints per objective and seed the best value after each trial, as JSON."""
import json
import sys
import time

import optuna

from objectives import OBJECTIVES

optuna.logging.set_verbosity(optuna.logging.WARNING)


def suggest(trial, name, dim):
    if isinstance(dim, list):
        return trial.suggest_categorical(name, dim)
    if dim.get("integer"):
        return trial.suggest_int(name, int(dim["min"]), int(dim["max"]), log=dim.get("scale") == "log")
    return trial.suggest_float(name, dim["min"], dim["max"], log=dim.get("scale") == "log")


def main():
    spec = json.load(sys.stdin)
    out = {"optuna_version": optuna.__version__, "objectives": {}}
    started = time.perf_counter()
    for name, objective_spec in spec["objectives"].items():
        fn = OBJECTIVES[name]
        space = objective_spec["space"]
        curves = []
        for seed in spec["seeds"]:
            # Optuna's defaults, which keel's TPE mirrors: 10 startup trials, 24 candidates, independent.
            sampler = optuna.samplers.TPESampler(seed=seed)
            study = optuna.create_study(sampler=sampler, direction="minimize")
            study.optimize(lambda t: fn({k: suggest(t, k, space[k]) for k in sorted(space)}), n_trials=spec["trials"])
            best, curve = float("inf"), []
            for t in study.trials:
                best = min(best, t.value)
                curve.append(best)
            curves.append(curve)
        out["objectives"][name] = curves
    out["seconds"] = time.perf_counter() - started
    print(json.dumps(out))


main()
