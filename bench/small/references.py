"""bench:small, the Python side: exports the small datasets and scores the reference models.

For each dataset (the four that ship inside scikit-learn's wheel, plus the two ~400-row tables of
issue 17 from the vega-datasets npm package), writes `<out>/<name>.json` with the rows, the
feature kinds and `--seeds` seeded splits (train 60 %, validation 15 %, test 25 %; stratified for
classes), then fits HistGradientBoosting, LightGBM and Ridge / LogisticRegression at their
defaults on each train split and scores them on its test split. The references see only the
train rows, as keel's models do (keel also uses the validation rows, for early stopping).

Prints one JSON object: {dataset: {model: [metrics per seed]}}.
"""

import argparse
import json
import os
import sys
import warnings

import lightgbm as lgb
import numpy as np
from sklearn import datasets
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_squared_error, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

warnings.filterwarnings("ignore")


def sklearn_table(loader, task):
    bunch = loader()
    names = [str(n) for n in bunch.feature_names]
    target = bunch.target.astype(float) if task == "regression" else np.array([str(bunch.target_names[i]) for i in bunch.target])
    rows = [{**{n: float(v) for n, v in zip(names, x)}, "target": t.item() if task == "regression" else str(t)} for x, t in zip(bunch.data, target)]
    return rows, [{"name": n, "kind": "numeric"} for n in names]


def vega_table(vega, name):
    rows = json.load(open(os.path.join(vega, name + ".json")))
    if name == "cars":
        # Miles per gallon from the other columns; 8 cars have no mpg (398 rows remain).
        rows = [{**{k: v for k, v in r.items() if k not in ("Name", "Miles_per_Gallon", "Year")}, "Year": float(r["Year"][:4]), "target": r["Miles_per_Gallon"]} for r in rows if r["Miles_per_Gallon"] is not None]
        cats = ["Origin"]
    else:
        rows = [{**{k: v for k, v in r.items() if k != "Species"}, "target": r["Species"]} for r in rows]
        cats = ["Island", "Sex"]
    names = [k for k in rows[0] if k != "target"]
    return rows, [{"name": n, "kind": "categorical" if n in cats else "numeric"} for n in names]


def matrix(rows, features):
    """Numeric columns as floats (None → NaN); categorical ones as codes of their sorted values."""
    columns = []
    for f in features:
        values = [r.get(f["name"]) for r in rows]
        if f["kind"] == "categorical":
            known = sorted({v for v in values if v is not None})
            columns.append([float(known.index(v)) if v is not None else np.nan for v in values])
        else:
            columns.append([float(v) if v is not None else np.nan for v in values])
    return np.array(columns, dtype=float).T


def tables(vega):
    yield "diabetes", "regression", *sklearn_table(datasets.load_diabetes, "regression")
    yield "breast_cancer", "binary", *sklearn_table(datasets.load_breast_cancer, "binary")
    yield "wine", "multiclass", *sklearn_table(datasets.load_wine, "multiclass")
    yield "iris", "multiclass", *sklearn_table(datasets.load_iris, "multiclass")
    yield "cars_mpg", "regression", *vega_table(vega, "cars")
    yield "penguins", "multiclass", *vega_table(vega, "penguins")


def splits_of(y, task, seeds):
    index = np.arange(len(y))
    stratify = None if task == "regression" else y
    out = []
    for seed in range(seeds):
        rest, test = train_test_split(index, test_size=0.25, random_state=seed, stratify=stratify)
        train, validation = train_test_split(rest, test_size=0.2, random_state=seed, stratify=None if stratify is None else stratify[rest])
        out.append({"seed": seed, "train": sorted(train.tolist()), "validation": sorted(validation.tolist()), "test": sorted(test.tolist())})
    return out


def metrics(task, truth, predicted, classes=None):
    if task == "regression":
        return {"rmse": float(np.sqrt(mean_squared_error(truth, predicted)))}
    labels = classes[np.argmax(predicted, axis=1)]
    result = {"accuracy": float(accuracy_score(truth, labels)), "logLoss": float(log_loss(truth, predicted, labels=classes))}
    if task == "binary":
        result["rocAuc"] = float(roc_auc_score(truth == classes[1], predicted[:, 1]))
    else:
        result["f1Macro"] = float(f1_score(truth, labels, average="macro"))
    return result


def references(task, features, seed):
    numeric = [i for i, f in enumerate(features) if f["kind"] == "numeric"]
    categorical = [i for i, f in enumerate(features) if f["kind"] == "categorical"]
    mask = [f["kind"] == "categorical" for f in features]
    linear_prep = ColumnTransformer(
        [("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)]
        + ([("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical)] if categorical else [])
    )
    if task == "regression":
        return {
            "hist_gradient_boosting": HistGradientBoostingRegressor(random_state=seed, categorical_features=mask),
            "lightgbm": lgb.LGBMRegressor(random_state=seed, n_jobs=1, verbose=-1),
            "ridge": make_pipeline(linear_prep, Ridge()),
        }
    return {
        "hist_gradient_boosting": HistGradientBoostingClassifier(random_state=seed, categorical_features=mask),
        "lightgbm": lgb.LGBMClassifier(random_state=seed, n_jobs=1, verbose=-1),
        "logistic_regression": make_pipeline(linear_prep, LogisticRegression(max_iter=5000)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--vega", required=True)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    result = {}
    for name, task, rows, features in tables(args.vega):
        y = np.array([r["target"] for r in rows], dtype=float if task == "regression" else object)
        splits = splits_of(y, task, args.seeds)
        json.dump({"name": name, "task": task, "target": "target", "features": features, "rows": rows, "splits": splits}, open(os.path.join(args.out, name + ".json"), "w"))
        X = matrix(rows, features)
        categorical = [i for i, f in enumerate(features) if f["kind"] == "categorical"]
        classes = None if task == "regression" else np.array(sorted(set(y)))
        scores = {}
        for split in splits:
            for model_name, model in references(task, features, split["seed"]).items():
                if model_name == "lightgbm":
                    model.fit(X[split["train"]], y[split["train"]], categorical_feature=categorical or "auto")
                else:
                    model.fit(X[split["train"]], y[split["train"]])
                test = X[split["test"]]
                predicted = model.predict(test) if task == "regression" else model.predict_proba(test)
                scores.setdefault(model_name, []).append(metrics(task, y[split["test"]], predicted, classes))
        result[name] = scores
        print(f"[bench:small] references scored on {name} ({len(rows)} rows)", file=sys.stderr)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
