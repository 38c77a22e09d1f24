"""scikit-learn's answers for keel's metric and linear-model tests (test/unit/*-sklearn.test.ts).

Reads a JSON list of requests on stdin (one process: importing scikit-learn takes seconds), writes
the JSON list of answers on stdout. Requests:
  {"kind": "regression", "y_true": [...], "y_pred": [...]}
  {"kind": "multiclass", "codes": [...], "proba": [[...], ...], "k": K}
  {"kind": "binary", "y_true": [...], "proba": [...], "threshold": t}
  {"kind": "ridge", "x": [[...], ...], "y": [...], "alpha": a}
  {"kind": "multinomial", "x": [[...], ...], "codes": [...], "c": C}
"""
import json
import sys

import numpy as np
import sklearn
from sklearn import metrics
from sklearn.linear_model import LogisticRegression, Ridge


def answer_to(request):
    kind = request["kind"]
    if kind == "regression":
        y, p = np.array(request["y_true"]), np.array(request["y_pred"])
        answer = {
            "rmse": metrics.root_mean_squared_error(y, p),
            "mae": metrics.mean_absolute_error(y, p),
            "r2": metrics.r2_score(y, p),
        }
    elif kind == "multiclass":
        codes, proba, k = np.array(request["codes"]), np.array(request["proba"]), request["k"]
        predicted = np.argmax(proba, axis=1)
        prf = lambda average: metrics.precision_recall_fscore_support(codes, predicted, average=average, zero_division=0)[:3]
        per_class = metrics.precision_recall_fscore_support(codes, predicted, labels=list(range(k)), average=None, zero_division=0)
        answer = {
            "accuracy": metrics.accuracy_score(codes, predicted),
            "macro": list(prf("macro")),
            "weighted": list(prf("weighted")),
            "per_class": [list(map(float, column)) for column in per_class[:3]],
            "support": list(map(int, per_class[3])),
            "log_loss": metrics.log_loss(codes, proba, labels=list(range(k))),
            # Two classes: sklearn takes the positive class's column (each class's one-vs-rest AUC is that one).
            "roc_auc_ovr": metrics.roc_auc_score(codes, proba[:, 1])
            if k == 2
            else metrics.roc_auc_score(codes, proba, multi_class="ovr", average="macro", labels=list(range(k))),
            "confusion": metrics.confusion_matrix(codes, predicted, labels=list(range(k))).tolist(),
        }
    elif kind == "binary":
        y, proba = np.array(request["y_true"]), np.array(request["proba"])
        predicted = (proba > request["threshold"]).astype(int)
        answer = {
            "accuracy": metrics.accuracy_score(y, predicted),
            "precision": metrics.precision_score(y, predicted, zero_division=0),
            "recall": metrics.recall_score(y, predicted, zero_division=0),
            "f1": metrics.f1_score(y, predicted, zero_division=0),
            "roc_auc": metrics.roc_auc_score(y, proba),
            "log_loss": metrics.log_loss(y, proba),
        }
    elif kind == "ridge":
        model = Ridge(alpha=request["alpha"], solver="cholesky").fit(np.array(request["x"]), np.array(request["y"]))
        answer = {"coef": model.coef_.tolist(), "intercept": float(model.intercept_)}
    elif kind == "multinomial":
        model = LogisticRegression(C=request["c"], tol=1e-12, max_iter=10_000).fit(np.array(request["x"]), np.array(request["codes"]))
        answer = {"proba": model.predict_proba(np.array(request["x"])).tolist(), "coef": model.coef_.tolist()}
    else:
        raise ValueError(f"unknown request kind {kind!r}")
    answer["sklearn_version"] = sklearn.__version__
    return answer


json.dump([answer_to(request) for request in json.load(sys.stdin)], sys.stdout)
