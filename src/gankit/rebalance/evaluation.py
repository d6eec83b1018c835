"""Does the synthetic data help? One fixed downstream classifier, trained four ways, tested on held-out real data.

(a) ``real``: the imbalanced real training part; (b) ``real+synthetic``: the rebalanced set;
(c) ``synthetic``: synthetic rows only (train on synthetic, test on real: TSTR); (d)
``real+oversampled``: (b)'s counts reached by repeating real rows (random oversampling), the
baseline synthetic rows have to beat. The classifier is the same for every set: scikit-learn's
LogisticRegression with the settings in :data:`CLASSIFIER` (`logistic`, on standardized columns or
flattened pixels), or for images the small CNN of :mod:`gankit.rebalance.detector` (`cnn`), which finds a
pattern wherever it is.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["CLASSIFIER", "CLASSIFIERS", "SET_TITLES", "class_memorization", "downstream_scores", "evaluate_downstream", "format_table"]

CLASSIFIER = {"C": 0.1, "max_iter": 2000}
CLASSIFIERS = ("logistic", "cnn")
SET_TITLES = {
    "real": "(a) real, imbalanced",
    "real+synthetic": "(b) real + synthetic",
    "synthetic": "(c) synthetic only",
    "real+oversampled": "(d) real, rows repeated",
}


def downstream_scores(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, n_classes: int,
    classifier: str = "logistic", seed: int = 0,
) -> dict[str, object]:
    """Fit the fixed classifier on (x_train, y_train); balanced accuracy and recall per class on the test set."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score, recall_score

    classes = np.unique(y_train)
    if len(classes) == 1:  # LogisticRegression refuses one class; such a model predicts it everywhere
        predicted, converged = np.full(len(y_test), classes[0]), True
    elif classifier == "cnn":
        from gankit.rebalance.detector import fit_cnn

        predicted, converged = fit_cnn(x_train, y_train, n_classes, seed)(x_test), True
    else:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = LogisticRegression(**CLASSIFIER).fit(x_train.reshape(len(x_train), -1), y_train)
        predicted = model.predict(x_test.reshape(len(x_test), -1))
        converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # predicted classes absent from the test set are fine here
        recall = recall_score(y_test, predicted, labels=list(range(n_classes)), average=None, zero_division=0)
        balanced = balanced_accuracy_score(y_test, predicted)
    return {"n_train": int(len(y_train)), "balanced_accuracy": float(balanced),
            "recall": [float(r) for r in recall], "converged": converged}


def evaluate_downstream(
    train_sets: dict[str, tuple[np.ndarray, np.ndarray]],
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names: list[str],
    minority: list[int],
    classifier: str = "logistic",
    seed: int = 0,
) -> dict[str, object]:
    """Scores of the fixed classifier trained on each named set, with the minority classes' mean recall.

    Recall is keyed by class name; `minority_recall` is the mean recall over `minority` (None if empty).
    """
    results: dict[str, object] = {}
    for name, (x, y) in train_sets.items():
        scores = downstream_scores(x, y, x_test, y_test, len(class_names), classifier, seed)
        recall = scores.pop("recall")
        scores["recall"] = dict(zip(class_names, recall))
        scores["minority_recall"] = float(np.mean([recall[c] for c in minority])) if minority else None
        results[name] = scores
    return {
        "classifier": _described(classifier),
        "test_rows": int(len(y_test)),
        "test_counts": dict(zip(class_names, np.bincount(y_test, minlength=len(class_names)).tolist())),
        "minority": [class_names[c] for c in minority],
        "sets": results,
    }


def class_memorization(
    real_x: np.ndarray, real_y: np.ndarray, synthetic_x: np.ndarray, synthetic_y: np.ndarray, class_names: list[str]
) -> dict[str, dict[str, float]]:
    """For each class with synthetic rows and at least two real ones: does the synthetic part copy the real?

    Nearest-neighbour distances in the classifier's input space (gankit.metrics.memorization): `copy_fraction`
    is the share of synthetic rows nearer to a real row of their class than the real rows' median distance to
    their nearest other real row (about 0.5 for fresh samples, near 1 for copies), with both medians.
    """
    from gankit.metrics.memorization import (
        memorization_summary, nearest_neighbour_distances, self_nearest_neighbour_distances,
    )

    results = {}
    for label, name in enumerate(class_names):
        n_real, n_fake = int((real_y == label).sum()), int((synthetic_y == label).sum())
        if n_fake == 0 or n_real < 2:
            continue
        real = real_x[real_y == label].reshape(n_real, -1)
        fake = synthetic_x[synthetic_y == label].reshape(n_fake, -1)
        summary = memorization_summary(nearest_neighbour_distances(fake, real), self_nearest_neighbour_distances(real))
        results[name] = {"synthetic_rows": len(fake), "real_rows": len(real),
                         "copy_fraction": summary["copy_fraction"], "median": summary["median"],
                         "reference_median": summary["reference_median"]}
    return results


def _described(classifier: str) -> str:
    if classifier == "cnn":
        from gankit.rebalance.detector import CNN_SETTINGS

        return "CNN(" + ", ".join(f"{k}={v}" for k, v in CNN_SETTINGS.items()) + ")"
    return "LogisticRegression(" + ", ".join(f"{k}={v}" for k, v in CLASSIFIER.items()) + ")"


def format_table(evaluation: dict[str, object]) -> str:
    """A Markdown table: balanced accuracy, minority recall and recall per class for each training set."""
    sets: dict[str, dict] = evaluation["sets"]  # type: ignore[assignment]
    minority: list[str] = evaluation["minority"]  # type: ignore[assignment]
    names = list(sets)
    header = [f"held-out real test ({evaluation['test_rows']} rows)"] + [SET_TITLES.get(n, n) for n in names]
    rows = [["training rows"] + [str(sets[n]["n_train"]) for n in names],
            ["**balanced accuracy**"] + [f"**{sets[n]['balanced_accuracy']:.3f}**" for n in names]]
    if minority:
        rows.append([f"**minority recall** ({', '.join(minority)})"]
                    + [f"**{sets[n]['minority_recall']:.3f}**" for n in names])
    for cls in next(iter(sets.values()))["recall"] if sets else []:
        mark = " (minority)" if cls in minority else ""
        rows.append([f"recall {cls}{mark}"] + [f"{sets[n]['recall'][cls]:.3f}" for n in names])
    if not all(sets[n]["converged"] for n in names):
        rows.append(["classifier converged"] + ["yes" if sets[n]["converged"] else "no" for n in names])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    copies = [f"{name} {m['copy_fraction']:.2f} ({m['synthetic_rows']} synthetic vs {m['real_rows']} real rows)"
              for name, m in evaluation.get("memorization", {}).items()]
    notes = ["", "copy fraction of the synthetic rows (0.5: fresh samples, 1: copies of real rows): "
             + "; ".join(copies)] if copies else []
    return "\n".join([line(header), rule, *map(line, rows), *notes])
