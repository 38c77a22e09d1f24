"""Reference side of `npm run bench:train` (run by bench/train/main.ts in the bench venv).

  lightgbm_run.py train DIR TARGET PARAMS_JSON THREADS CATEGORICAL
      Trains LightGBM on DIR/X_train.npy and DIR/y_<TARGET>_train.npy with the given parameters
      (objective included) and thread count, scores DIR/X_test.npy, and prints one JSON line:
      seconds (Dataset construction, binning included, plus training), cpu_seconds (the same
      span's CPU time of every thread of the process), test metrics, peak RSS, versions.
  lightgbm_run.py metrics OBJECTIVE Y_TRUE.npy PREDICTIONS.npy
      scikit-learn's metrics of given predictions (probabilities for `binary`, values for
      `regression`), to check keel's metric code on identical predictions; one JSON line.
"""
import json
import resource
import sys
import time

import numpy as np


def sklearn_metrics(objective, y, p):
    from sklearn import metrics

    if objective == "regression":
        return {
            "rmse": float(metrics.root_mean_squared_error(y, p)),
            "mae": float(metrics.mean_absolute_error(y, p)),
            "r2": float(metrics.r2_score(y, p)),
        }
    label = (p > 0.5).astype(np.int64)
    return {
        "roc_auc": float(metrics.roc_auc_score(y, p)),
        "log_loss": float(metrics.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])),
        "accuracy": float(metrics.accuracy_score(y, label)),
        "precision": float(metrics.precision_score(y, label, zero_division=0)),
        "recall": float(metrics.recall_score(y, label, zero_division=0)),
        "f1": float(metrics.f1_score(y, label, zero_division=0)),
    }


def train(directory, target, params_json, threads, categorical):
    import lightgbm as lgb
    import sklearn

    x_train = np.load(f"{directory}/X_train.npy")
    y_train = np.load(f"{directory}/y_{target}_train.npy")
    x_test = np.load(f"{directory}/X_test.npy")
    y_test = np.load(f"{directory}/y_{target}_test.npy")
    params = dict(json.loads(params_json))
    num_trees = params.pop("num_iterations")
    params.update({"num_threads": threads, "verbose": -1, "deterministic": True, "force_row_wise": True})
    categorical_feature = [3, 4] if categorical else []
    started = time.perf_counter()
    cpu_started = time.process_time()
    dataset = lgb.Dataset(x_train, label=y_train, categorical_feature=categorical_feature, free_raw_data=False)
    booster = lgb.train(params, dataset, num_boost_round=num_trees)
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    predictions = booster.predict(x_test, num_threads=threads)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "threads": threads,
        "categorical": categorical,
        "trees": booster.num_trees(),
        "metrics": sklearn_metrics(params["objective"], y_test, predictions),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {"lightgbm": lgb.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__},
    }
    print(json.dumps(result))


def main():
    command = sys.argv[1]
    if command == "train":
        train(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6] == "1")
    elif command == "metrics":
        print(json.dumps(sklearn_metrics(sys.argv[2], np.load(sys.argv[3]), np.load(sys.argv[4]))))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
